"""Line-exact JSONL reading shared by the JSON adapters."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from entqa_kit.errors import EntQAError
from entqa_kit.records import Entity, SourceEntity

from .base import BadRowLog


def iter_json_objects(path: Path, bad: BadRowLog) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line, 1-based.

    Undecodable bytes, malformed JSON, a truncated last line and non-object
    values are reported to ``bad`` with their line number.
    """
    if not path.is_file():
        raise EntQAError("E001", path=path)
    seen_any = False
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            seen_any = True
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad.report(EntQAError("E003", path=path, line=number, detail=f"byte {exc.start}"))
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                code = "E005" if not raw.endswith(b"\n") else "E004"
                bad.report(EntQAError(code, path=path, line=number, detail=exc.msg))
                continue
            if not isinstance(value, dict):
                bad.report(EntQAError("E009", path=path, line=number, kind=type(value).__name__))
                continue
            yield number, value
    if not seen_any:
        raise EntQAError("E002", path=path)


def first_json_objects(path: Path, max_lines: int = 50, wanted: int = 5) -> list[dict[str, Any]]:
    """Up to ``wanted`` parseable objects among the first lines of a JSONL file, for sniffing."""
    found: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            if number >= max_lines:
                break
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict):
                found.append(value)
                if len(found) == wanted:
                    break
    return found


class FieldReader:
    """Typed access to the fields of one JSON object, with coded errors."""

    def __init__(self, path: Path, line: int, obj: dict[str, Any]) -> None:
        self.path, self.line, self.obj = path, line, obj

    def _wrong(self, name: str, expected: str, value: Any) -> EntQAError:
        return EntQAError(
            "E010", path=self.path, line=self.line, field=name, expected=expected, kind=type(value).__name__
        )

    def required(self, name: str, missing_code: str) -> str:
        value = self.obj.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise EntQAError(missing_code, path=self.path, line=self.line, field=name)
        if not isinstance(value, str):
            raise self._wrong(name, "a string", value)
        return value.strip()

    def optional(self, name: str) -> str:
        value = self.obj.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._wrong(name, "a string", value)
        return value.strip()

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.obj.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(name, "a list of strings", value)
        return tuple(v.strip() for v in value if v.strip())


def read_json_entities(
    path: Path, bad: BadRowLog, to_entity: Callable[[FieldReader], Entity]
) -> Iterator[SourceEntity]:
    """Stream entities of a JSONL file through a per-format field mapping."""
    for line, obj in iter_json_objects(path, bad):
        try:
            entity = to_entity(FieldReader(path, line, obj))
        except EntQAError as error:
            bad.report(error)
            continue
        yield SourceEntity(line=line, entity=entity)
