"""CSV and TSV tables, one entity per row, with user-named columns.

The header is the first row. A leading block of ``#`` comment lines is skipped;
when the named columns are not in the first row but are in the last comment line
(as in CTD's MEDIC ``CTD_diseases.tsv``, whose header reads ``# DiseaseName<TAB>...``),
that comment line is the header.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import open_binary, require_file
from entqa_kit.core.records import Entity, SourceEntity
from entqa_kit.io.jsonl import BOM
from kb_adapters.base import BadRowLog, ReadOptions, TableColumns

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _delimiter(path: Path, columns: TableColumns) -> str:
    if columns.delimiter:
        return "\t" if columns.delimiter in ("\\t", "tab") else columns.delimiter
    return "\t" if path.suffix.lower() in (".tsv", ".tab") else ","


class _Lines:
    """Decoded lines with their physical line numbers; bad bytes are reported, a leading
    byte-order mark is dropped. ``exhausted`` turns true when the reader asked for a line past the
    end, which it does after a row only when a quoted field was still open at the end of the file."""

    def __init__(self, path: Path, bad: BadRowLog) -> None:
        self.path, self.bad = path, bad
        self.number = 0
        self.exhausted = False
        self.recent: list[tuple[int, str]] = []  # the lines of the row being read

    def __iter__(self) -> Iterator[str]:
        with open_binary(self.path) as handle:
            for raw in handle:
                self.number += 1
                if self.number == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM) :]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.bad.report(
                        EntQAError("E003", path=self.path, line=self.number, detail=f"byte {exc.start}")
                    )
                    continue
                self.recent.append((self.number, line))
                yield line
        self.exhausted = True

    def row_lines(self) -> list[tuple[int, str]]:
        """The numbered lines read since the last call (those of the row just parsed)."""
        lines, self.recent = self.recent, []
        return lines


def _unclosed_quote(lines: list[tuple[int, str]], quote: str = '"') -> int | None:
    """The line on which a quoted field that is still open after ``lines`` was opened, or None."""
    inside, opened = False, None
    for number, line in lines:
        for char in line:
            if char == quote:
                inside = not inside
                if inside:
                    opened = number
    return opened if inside else None


_OTHER_DELIMITERS = {
    ";": ("semicolon", "';'"),
    "\t": ("tab", "tab"),
    ",": ("comma", "','"),
    "|": ("pipe", "'|'"),
}


def _hint_delimiter(path: Path, column: str, header: list[str]) -> None:
    """E095 when the header was read as one column that holds another delimiter (``id;title``)."""
    if len(header) != 1:
        return
    counts = {d: header[0].count(d) for d in _OTHER_DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter]:
        name, suggestion = _OTHER_DELIMITERS[delimiter]
        raise EntQAError(
            "E095", path=path, column=column, header=header[0], delimiter_name=name, suggestion=suggestion
        )


class _ColumnMap:
    def __init__(self, path: Path, header: list[str], columns: TableColumns) -> None:
        self.header = [h.strip() for h in header]
        self.path = path
        self.id = self._find(columns.id, "--id-col", required=True)
        self.title = self._find(columns.title, "--title-col", required=True)
        self.description = self._optional(columns.description, "description", "--description-col")
        self.aliases = self._optional(columns.aliases, "aliases", "--aliases-col")
        self.types = self._optional(columns.types, "types", "--types-col")
        self.alt_ids = self._optional(columns.alt_ids, "alt_ids", "--alt-ids-col")

    def _find(self, name: str, option: str, required: bool) -> int | None:
        if name in self.header:
            return self.header.index(name)
        if required:
            _hint_delimiter(self.path, name, self.header)
            raise EntQAError(
                "E013", path=self.path, column=name, header=", ".join(self.header), option=option
            )
        return None

    def _optional(self, given: str | None, conventional: str, option: str) -> int | None:
        if given is not None:
            return self._find(given, option, required=True)
        return self._find(conventional, option, required=False)


def _header_from_comment(comment_row: list[str]) -> list[str]:
    return [comment_row[0].lstrip("#").strip(), *comment_row[1:]]


class CsvTableAdapter:
    name = "csv"
    extensions = (".csv", ".tsv", ".tab")

    def sniff(self, first_record: Any) -> bool:
        return False  # chosen by extension only

    def read(self, path: Path, options: ReadOptions, bad: BadRowLog) -> Iterator[SourceEntity]:
        require_file(path, "KB")
        columns = options.columns
        delimiter = _delimiter(path, columns)
        lines = _Lines(path, bad)
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        rows = csv.reader(lines, delimiter=delimiter, quoting=quoting)
        last_comment: list[str] | None = None
        colmap: _ColumnMap | None = None
        sep = columns.list_separator
        for row in rows:
            row_lines = lines.row_lines()
            if lines.exhausted and quoting != csv.QUOTE_NONE and len(row_lines) > 1:
                opened = _unclosed_quote(row_lines)
                if opened is not None:
                    raise EntQAError("E071", path=path, line=opened, lines=row_lines[-1][0] - opened)
            if not any(cell.strip() for cell in row):
                continue
            if colmap is None:
                if row[0].startswith("#"):
                    if len(row) > 1:
                        last_comment = row
                    continue
                colmap, first_row_is_header = self._header(path, row, last_comment, columns)
                if first_row_is_header:
                    continue
            number = lines.number
            try:
                entity = self._entity(path, number, row, colmap, sep)
            except EntQAError as error:
                bad.report(error)
                continue
            yield SourceEntity(line=number, entity=entity)
        if colmap is None:
            raise EntQAError("E002", path=path)

    @staticmethod
    def _header(
        path: Path, first_row: list[str], last_comment: list[str] | None, columns: TableColumns
    ) -> tuple[_ColumnMap, bool]:
        """The column map, and whether ``first_row`` was the header."""
        try:
            return _ColumnMap(path, first_row, columns), True
        except EntQAError:
            if last_comment is None:
                raise
            return _ColumnMap(path, _header_from_comment(last_comment), columns), False

    @staticmethod
    def _entity(path: Path, line: int, cells: list[str], colmap: _ColumnMap, sep: str) -> Entity:
        if len(cells) != len(colmap.header):
            raise EntQAError("E014", path=path, line=line, got=len(cells), expected=len(colmap.header))

        def cell(index: int | None) -> str:
            return cells[index].strip() if index is not None else ""

        def listed(index: int | None) -> tuple[str, ...]:
            return tuple(v.strip() for v in cell(index).split(sep) if v.strip()) if sep else (cell(index),)

        entity_id, title = cell(colmap.id), cell(colmap.title)
        if not entity_id:
            raise EntQAError("E008", path=path, line=line, field=colmap.header[colmap.id])
        if not title:
            raise EntQAError("E006", path=path, line=line, field=colmap.header[colmap.title])
        return Entity(
            id=entity_id,
            title=title,
            description=cell(colmap.description),
            aliases=listed(colmap.aliases),
            types=listed(colmap.types),
            alt_ids=listed(colmap.alt_ids),
        )
