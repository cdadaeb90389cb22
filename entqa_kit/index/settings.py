"""Which entity encoder an index is built with: a model directory's tower, a plain encoder, or the default."""

from __future__ import annotations

from entqa_kit.core.config import EncoderConfig, validated
from entqa_kit.core.errors import EntQAError
from entqa_kit.models.default import model_or_default
from entqa_kit.models.model_dir import entity_encoder_config, is_model_dir


def resolve_entity_encoder(
    model: str | None = None,
    pooling: str | None = None,
    max_entity_tokens: int | None = None,
    include_aliases: bool | None = None,
    dtype: str | None = None,
) -> EncoderConfig:
    """The encoder config to index a KB with (None: not given).

    ``model`` is an entqa-kit model directory (its entity tower, settings fixed by training), any
    HF id or path (a plain encoder the text settings apply to), or None: the shipped model's entity
    tower, or its base encoder when text settings are given (they change the vectors, so an index
    built with them no longer links with the shipped model). Text settings with a model directory
    are refused (E040).
    """
    fixed = {
        "--pooling": pooling,
        "--max-entity-tokens": max_entity_tokens,
        "--include-aliases": include_aliases,
    }
    given = [name for name, value in fixed.items() if value is not None]
    if model is None:
        default = model_or_default(None)
        model = entity_encoder_config(default).model if given else default
    if is_model_dir(model):
        if given:
            detail = f"{', '.join(given)} cannot change the entity tower of model {model}; drop them"
            raise EntQAError("E040", detail=detail)
        config = entity_encoder_config(model)
        return config.model_copy(update={"dtype": dtype or config.dtype})
    return validated(
        EncoderConfig,
        model=model,
        pooling=pooling,
        max_entity_tokens=max_entity_tokens,
        include_aliases=include_aliases,
        dtype=dtype,
    )
