"""The server's limits and options, validated once when it starts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServeSettings(BaseModel):
    """What a server accepts and how it batches. Every limit is checked per request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_batch: int = Field(default=16, ge=1, description="documents the model reads in one shared batch")
    batch_window_ms: float = Field(
        default=10.0, ge=0, description="how long the first queued document waits for others to join"
    )
    max_queue: int = Field(default=512, ge=1, description="documents waiting at most; more get 503")
    max_docs: int = Field(default=64, ge=1, description="documents per /link request")
    max_chars: int = Field(default=100_000, ge=1, description="characters per document")
    max_body_bytes: int = Field(default=10_000_000, ge=1, description="request body size")
    max_top_k: int = Field(default=100, ge=1, description="largest per-request top_k")
    max_search_k: int = Field(default=100, ge=1, description="largest k of /search")
    batch_size: int = Field(default=64, ge=1, description="(passage, candidate) pairs per reader batch")
    uri_template: str | None = Field(
        default=None,
        description="entity URI for GERBIL, with {id} or {title}; None: DBpedia titles for a "
        "Wikipedia (KILT) KB, else uri_prefix + id",
    )
    uri_prefix: str = "urn:entqa:"
