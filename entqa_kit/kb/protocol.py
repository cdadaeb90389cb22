"""The KB adapter protocol: a KB file in, a stream of typed entities out.

An adapter streams :class:`~entqa_kit.core.records.SourceEntity` records in constant
memory. Bad rows go to a :class:`~entqa_kit.io.bad_rows.BadRowLog`, which either raises
the coded error at once or, with ``skip_bad``, records the row and lets the stream go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from entqa_kit.core.records import SourceEntity
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.read_options import ReadOptions


@runtime_checkable
class KBAdapter(Protocol):
    """What a KB adapter provides. Register one under the entry-point group
    ``entqa_kit.kb_adapters``; see ``examples/custom_adapter``."""

    name: str
    extensions: tuple[str, ...]

    def sniff(self, first_record: Any) -> bool:
        """Whether the first parsed record (a dict for JSONL) looks like this format."""
        ...

    def read(self, path: Path, options: ReadOptions, bad: BadRowLog) -> Iterator[SourceEntity]:
        """Stream the entities of ``path``; report bad rows to ``bad``."""
        ...
