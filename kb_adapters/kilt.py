"""KILT knowledge source: ``{"_id", "wikipedia_id", "wikipedia_title", "text": [title, paragraph, ...]}``.

The description is the text after the title paragraph, joined with spaces; the
encoder truncates it, so the whole lead is kept in the entity store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.records import Entity, SourceEntity
from kb_adapters.base import BadRowLog, ReadOptions
from kb_adapters.jsonl_lines import FieldReader, read_json_entities


def _to_entity(fields: FieldReader) -> Entity:
    title = fields.required("wikipedia_title", "E006")
    paragraphs = list(fields.strings("text"))
    if paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    return Entity(id=fields.required("_id", "E008"), title=title, description=" ".join(paragraphs))


class KiltAdapter:
    name = "kilt"
    extensions = (".jsonl", ".json")

    def sniff(self, first_record: Any) -> bool:
        return isinstance(first_record, dict) and "wikipedia_title" in first_record and "_id" in first_record

    def read(self, path: Path, options: ReadOptions, bad: BadRowLog) -> Iterator[SourceEntity]:
        return read_json_entities(path, bad, _to_entity)
