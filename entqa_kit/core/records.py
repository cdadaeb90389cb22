"""Typed records that flow through the toolkit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Entity(BaseModel):
    """One KB entry, as every adapter yields it (the native KB JSONL format)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    aliases: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    alt_ids: tuple[str, ...] = ()


class SourceEntity(BaseModel):
    """An entity together with the line of the file it came from."""

    model_config = ConfigDict(frozen=True)

    line: int
    entity: Entity


class SearchHit(BaseModel):
    """One result of a dense search."""

    rank: int
    id: str
    title: str
    score: float


class Mention(BaseModel):
    """A gold mention: a character span and the KB ids it links to.

    ``entities`` holds KB ids (several for a composite mention); it is empty when
    the source's label is not in the KB (out-of-KB, e.g. AIDA's ``--NME--``).
    ``label`` is the source's own label, kept for reports.
    """

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int
    entities: tuple[str, ...] = ()
    label: str = ""

    @property
    def in_kb(self) -> bool:
        return bool(self.entities)


class Document(BaseModel):
    """A document with optional gold mentions (Python str offsets into ``text``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    mentions: tuple[Mention, ...] = ()


class Passage(BaseModel):
    """A window of wordpieces of one document, with exact character offsets.

    ``token_ids`` are the passage's wordpiece ids (no special tokens) and
    ``offsets`` their ``(start, end)`` character spans in the document text.
    ``gold`` lists the KB ids of the in-KB mentions that lie fully inside it.
    """

    model_config = ConfigDict(frozen=True)

    document_id: str
    index: int
    token_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    topic_ids: tuple[int, ...] = ()
    gold: tuple[str, ...] = ()

    @property
    def char_start(self) -> int:
        return self.offsets[0][0]

    @property
    def char_end(self) -> int:
        return self.offsets[-1][1]


class LinkedSpan(BaseModel):
    """A predicted mention: character span, its text, the linked entity and the score."""

    model_config = ConfigDict(frozen=True)

    start: int
    end: int
    text: str
    entity: str
    title: str
    score: float


class LinkedDocument(BaseModel):
    """A document's predictions (the Predictions JSONL record)."""

    id: str
    mentions: list[LinkedSpan]
