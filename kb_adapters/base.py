"""The adapter protocol: a KB file in, a stream of typed entities out.

An adapter streams :class:`~entqa_kit.records.SourceEntity` records in constant
memory. Bad rows go to a :class:`BadRowLog`, which either raises the coded error
at once or, with ``skip_bad``, records the row and lets the stream go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from entqa_kit.errors import EntQAError
from entqa_kit.records import SourceEntity


@dataclass(frozen=True)
class TableColumns:
    """Column names for table-shaped KBs (CSV/TSV). ``None`` means "use the
    conventional name if the table has it"."""

    id: str = "id"
    title: str = "title"
    description: str | None = None
    aliases: str | None = None
    types: str | None = None
    alt_ids: str | None = None
    list_separator: str = "|"
    delimiter: str | None = None


@dataclass(frozen=True)
class ReadOptions:
    """What a user may say about how to read a KB file."""

    skip_bad: bool = False
    columns: TableColumns = field(default_factory=TableColumns)


@dataclass(frozen=True)
class BadRow:
    line: int
    code: str
    message: str


class BadRowLog:
    """Collects bad rows when skipping is allowed; raises otherwise."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.rows: list[BadRow] = []

    def report(self, error: EntQAError) -> None:
        if not self.skip_bad or error.line is None:
            raise error
        self.rows.append(BadRow(line=error.line, code=error.code, message=error.message))

    def __len__(self) -> int:
        return len(self.rows)

    def write_sidecar(self, path: Path) -> None:
        """Write one JSON line per skipped row (line, code, message), atomically."""
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for row in self.rows:
                out.write(json.dumps({"line": row.line, "code": row.code, "message": row.message}) + "\n")
        tmp.replace(path)


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
