"""Open the entity store of a KB file or of an index directory, for work that needs no vectors."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.index.dense import KB_STORE
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.read_options import ReadOptions
from entqa_kit.kb.registry import get_adapter
from entqa_kit.kb.store import KnowledgeBase


@dataclass(frozen=True)
class OpenedKB:
    """The store, where it came from (``index`` or an adapter's name) and the rows skipped as bad."""

    kb: KnowledgeBase
    source: str
    skipped_rows: int = 0


@contextmanager
def open_kb(
    path: Path, kb_format: str | None = None, read_options: ReadOptions | None = None
) -> Iterator[OpenedKB]:
    """An index directory's ``kb.sqlite`` as it is, or a KB file read through its adapter into a
    temporary store that is removed on exit."""
    if path.is_dir():
        if not (path / KB_STORE).is_file():
            raise EntQAError("E110", path=path, store=KB_STORE)
        kb = KnowledgeBase(path / KB_STORE)
        try:
            yield OpenedKB(kb, "index")
        finally:
            kb.close()
        return
    read_options = read_options or ReadOptions()
    adapter = get_adapter(path, kb_format)
    bad = BadRowLog(read_options.skip_bad)
    with tempfile.TemporaryDirectory(prefix="entqa-kb-") as tmp:
        kb = KnowledgeBase.build(adapter.read(path, read_options, bad), Path(tmp) / KB_STORE, path, bad)
        try:
            if len(kb) == 0:
                raise EntQAError("E111", path=path, skipped=len(bad))
            yield OpenedKB(kb, adapter.name, len(bad))
        finally:
            kb.close()
