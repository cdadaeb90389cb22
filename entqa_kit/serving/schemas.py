"""Request and response records of the HTTP API (they are the OpenAPI schema at /docs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from entqa_kit.core.records import LinkedDocument, SearchHit


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="your id; default: the document's position")
    text: str


class LinkRequest(BaseModel):
    """Either ``documents`` (with ids) or ``texts``; optional per-request link settings."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"documents": [{"id": "d1", "text": "Paris is in France."}]}]},
    )

    documents: list[DocumentIn] | None = None
    texts: list[str] | None = None
    top_k: int | None = Field(default=None, ge=1, description="candidates per passage (default: the model's)")
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="keep spans scoring above it (default: the model's)"
    )

    @model_validator(mode="after")
    def _one_of(self) -> LinkRequest:
        if (self.documents is None) == (self.texts is None):
            raise ValueError("give exactly one of 'documents' and 'texts'")
        return self

    def as_documents(self) -> list[DocumentIn]:
        if self.documents is not None:
            return [
                DocumentIn(id=d.id if d.id is not None else str(i), text=d.text)
                for i, d in enumerate(self.documents)
            ]
        return [DocumentIn(id=str(i), text=t) for i, t in enumerate(self.texts or [])]


class LinkResponse(BaseModel):
    documents: list[LinkedDocument]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "Paris", "k": 5}]})

    text: str = Field(min_length=1)
    k: int = Field(default=10, ge=1)


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class EntityOut(BaseModel):
    id: str
    title: str
    description: str
    aliases: list[str]
    types: list[str]
    alt_ids: list[str]


class Health(BaseModel):
    status: str
    version: str
    model: str
    index: str
    kb_size: int
    kb_fingerprint: str
    model_fingerprint: str
    threshold: float
    top_k: int
    queued: int
    batches: int
    documents_linked: int
    uptime_s: float


class Reloaded(BaseModel):
    """What ``POST /admin/reload`` swapped: the index directory's KB now and before."""

    status: str = "reloaded"
    index: str
    kb_size: int
    kb_fingerprint: str
    previous_kb_size: int
    previous_kb_fingerprint: str
    seconds: float


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
