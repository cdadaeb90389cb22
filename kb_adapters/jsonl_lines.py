"""Line-exact JSONL reading shared by the JSON adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Entity, SourceEntity
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.jsonl import first_json_objects, iter_json_objects

__all__ = ["FieldReader", "first_json_objects", "iter_json_objects", "read_json_entities"]


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
    for line, obj in iter_json_objects(path, bad, "KB"):
        try:
            entity = to_entity(FieldReader(path, line, obj))
        except EntQAError as error:
            bad.report(error)
            continue
        yield SourceEntity(line=line, entity=entity)
