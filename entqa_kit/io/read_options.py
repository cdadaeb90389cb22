"""What a user may say about how to read a KB file (shared by the adapters and the index build)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
