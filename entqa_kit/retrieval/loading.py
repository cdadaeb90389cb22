"""Load a retriever from a model directory, or a zero-shot one from any encoder."""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.config import EncoderConfig, PassageConfig, RetrieverConfig
from entqa_kit.models.encoder import TextEncoder
from entqa_kit.models.model_dir import is_model_dir, read_model_config, resolved_encoder_config
from entqa_kit.retrieval.retriever import Retriever


def load_retriever(model: str, index_encoder: EncoderConfig | None = None) -> tuple[Retriever, PassageConfig]:
    """A retriever from a model directory, or a zero-shot one (one shared tower) from any encoder.

    For a plain encoder that is the one an index was built with, pass the index's
    ``index_encoder`` config so that its entity-text settings (aliases, pooling) are kept.
    """
    if not is_model_dir(model):
        same = index_encoder is not None and index_encoder.model == model
        encoder = TextEncoder.load(index_encoder if same else EncoderConfig(model=model))
        return Retriever(encoder, encoder, RetrieverConfig()), PassageConfig()
    model_dir = Path(model)
    config = read_model_config(model_dir)
    passage = TextEncoder.load(resolved_encoder_config(config.passage_encoder, model_dir))
    entity = TextEncoder.load(resolved_encoder_config(config.entity_encoder, model_dir))
    return Retriever(passage, entity, config.retriever), config.passages
