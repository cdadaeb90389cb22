"""UMLS-style JSONL in scispaCy's layout:
``{"concept_id", "canonical_name", "aliases", "types", "definition", "alt_ids"?}``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.records import Entity, SourceEntity
from kb_adapters.base import BadRowLog, ReadOptions
from kb_adapters.jsonl_lines import FieldReader, read_json_entities


def _to_entity(fields: FieldReader) -> Entity:
    return Entity(
        id=fields.required("concept_id", "E008"),
        title=fields.required("canonical_name", "E006"),
        description=fields.optional("definition"),
        aliases=fields.strings("aliases"),
        types=fields.strings("types"),
        alt_ids=fields.strings("alt_ids"),
    )


class UmlsJsonlAdapter:
    name = "umls"
    extensions = (".jsonl", ".json")

    def sniff(self, first_record: Any) -> bool:
        return (
            isinstance(first_record, dict)
            and "concept_id" in first_record
            and "canonical_name" in first_record
        )

    def read(self, path: Path, options: ReadOptions, bad: BadRowLog) -> Iterator[SourceEntity]:
        return read_json_entities(path, bad, _to_entity)
