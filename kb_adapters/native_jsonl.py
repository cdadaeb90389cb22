"""The native entity JSONL: ``{"id", "title", "description", "aliases"?, "types"?}``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.records import Entity, SourceEntity
from kb_adapters.base import BadRowLog, ReadOptions
from kb_adapters.jsonl_lines import FieldReader, read_json_entities


def _to_entity(fields: FieldReader) -> Entity:
    return Entity(
        id=fields.required("id", "E008"),
        title=fields.required("title", "E006"),
        description=fields.optional("description"),
        aliases=fields.strings("aliases"),
        types=fields.strings("types"),
        alt_ids=fields.strings("alt_ids"),
    )


class NativeJsonlAdapter:
    name = "jsonl"
    extensions = (".jsonl", ".ndjson", ".json")

    def sniff(self, first_record: Any) -> bool:
        return isinstance(first_record, dict) and "id" in first_record and "title" in first_record

    def read(self, path: Path, options: ReadOptions, bad: BadRowLog) -> Iterator[SourceEntity]:
        return read_json_entities(path, bad, _to_entity)
