"""The bad-row log: raise a coded error at once, or (skip_bad) record the row and go on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError


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
