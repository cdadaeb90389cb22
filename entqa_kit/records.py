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
