"""Find KB adapters: the built-ins plus any registered under the entry-point
group ``entqa_kit.kb_adapters``, and detect a file's format."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from entqa_kit.errors import EntQAError

from .base import KBAdapter
from .csv_table import CsvTableAdapter
from .jsonl_lines import first_json_objects
from .kilt import KiltAdapter
from .native_jsonl import NativeJsonlAdapter
from .umls_jsonl import UmlsJsonlAdapter

ENTRY_POINT_GROUP = "entqa_kit.kb_adapters"


@cache
def available_adapters() -> dict[str, KBAdapter]:
    """Adapters by name; entry points may add formats but not shadow built-ins."""
    adapters: dict[str, KBAdapter] = {
        a.name: a for a in (KiltAdapter(), UmlsJsonlAdapter(), NativeJsonlAdapter(), CsvTableAdapter())
    }
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in adapters:
            continue
        loaded = point.load()
        adapter = loaded() if isinstance(loaded, type) else loaded
        if isinstance(adapter, KBAdapter):
            adapters[point.name] = adapter
    return adapters


def get_adapter(path: Path, fmt: str | None = None) -> KBAdapter:
    """The adapter for ``fmt``, or the one detected from extension and first record."""
    adapters = available_adapters()
    known = ", ".join(sorted(adapters))
    if fmt is not None:
        if fmt not in adapters:
            raise EntQAError("E011", path=path, fmt=fmt, known=known)
        return adapters[fmt]
    if not path.is_file():
        raise EntQAError("E001", path=path)
    if path.stat().st_size == 0:
        raise EntQAError("E002", path=path)
    suffix = path.suffix.lower()
    by_extension = [a for a in adapters.values() if suffix in a.extensions]
    if len(by_extension) == 1:
        return by_extension[0]
    samples = first_json_objects(path) if by_extension else []
    for adapter in by_extension:
        if any(adapter.sniff(sample) for sample in samples):
            return adapter
    if by_extension and not samples:
        return adapters["jsonl"]  # reading it reports the first bad line with its code
    raise EntQAError("E012", path=path, known=known)
