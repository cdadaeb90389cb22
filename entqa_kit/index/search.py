"""Dense search of an index with the encoder it was built with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from entqa_kit.core.records import SearchHit
from entqa_kit.index.dense import DenseIndex, IndexManifest
from entqa_kit.models.encoder import TextEncoder


def load_index_with_encoder(index_dir: Path) -> tuple[DenseIndex, TextEncoder]:
    """The index and its encoder; refuses if the model on disk no longer matches the index."""
    manifest = IndexManifest.read(index_dir)
    encoder = TextEncoder.load(manifest.encoder)
    return DenseIndex.load(index_dir, model_fingerprint=encoder.fingerprint), encoder


def search_index(index_dir: Path, queries: Sequence[str], k: int = 10) -> list[list[SearchHit]]:
    index, encoder = load_index_with_encoder(index_dir)
    return index.search_hits(encoder.encode_queries(queries), k)
