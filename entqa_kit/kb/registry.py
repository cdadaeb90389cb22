"""Find KB adapters through the entry-point group ``entqa_kit.kb_adapters`` and detect a file's format.

The built-in adapters (package ``kb_adapters``) are declared in that group by entqa-kit itself;
third-party packages add formats there. A plug-in that fails to load is reported by its
entry-point name and left out; the others still work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.io.jsonl import first_json_objects
from entqa_kit.kb.protocol import KBAdapter

ENTRY_POINT_GROUP = "entqa_kit.kb_adapters"
OWN_DISTRIBUTION = "entqa-kit"


@dataclass(frozen=True)
class BrokenPlugin:
    """An entry point that could not be loaded, and why."""

    name: str
    target: str
    reason: str


@cache
def _discover() -> tuple[dict[str, KBAdapter], tuple[BrokenPlugin, ...]]:
    adapters: dict[str, KBAdapter] = {}
    broken: list[BrokenPlugin] = []
    points = list(entry_points(group=ENTRY_POINT_GROUP))
    own = [p for p in points if _distribution(p) == OWN_DISTRIBUTION]
    for point in own + [p for p in points if p not in own]:
        if point.name in adapters:
            continue  # plug-ins may add formats, never shadow built-ins
        try:
            loaded = point.load()
            adapter = loaded() if isinstance(loaded, type) else loaded
        except Exception as exc:  # a plug-in's own bug must not take the built-ins down
            broken.append(BrokenPlugin(point.name, str(getattr(point, "value", "")), _reason(exc)))
            continue
        if isinstance(adapter, KBAdapter):
            adapters[point.name] = adapter
        else:
            reason = f"{type(adapter).__name__} lacks name/extensions/sniff/read"
            broken.append(BrokenPlugin(point.name, str(getattr(point, "value", "")), reason))
    return adapters, tuple(broken)


def _distribution(point) -> str | None:
    dist = getattr(point, "dist", None)
    return getattr(dist, "name", None) if dist is not None else None


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def available_adapters() -> dict[str, KBAdapter]:
    """Adapters by name (loaded once)."""
    return _discover()[0]


def broken_plugins() -> tuple[BrokenPlugin, ...]:
    """Entry points of the group that failed to load."""
    return _discover()[1]


available_adapters.cache_clear = _discover.cache_clear  # type: ignore[attr-defined]


def get_adapter(path: Path, fmt: str | None = None) -> KBAdapter:
    """The adapter for ``fmt``, or the one detected from extension and first record."""
    adapters = available_adapters()
    known = ", ".join(sorted(adapters))
    if fmt is not None:
        if fmt not in adapters:
            failed = next((b for b in broken_plugins() if b.name == fmt), None)
            if failed is not None:
                raise EntQAError("E016", name=failed.name, target=failed.target, reason=failed.reason)
            raise EntQAError("E011", path=path, fmt=fmt, known=known)
        return adapters[fmt]
    if path.is_dir():
        raise EntQAError("E017", path=path)
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
    if by_extension and not samples and "jsonl" in adapters:
        return adapters["jsonl"]  # reading it reports the first bad line with its code
    raise EntQAError("E012", path=path, known=known)
