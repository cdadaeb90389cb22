"""Retriever evaluation on labelled documents against an index."""

from __future__ import annotations

from pathlib import Path

from .datasets import load_documents
from .index import DenseIndex, IndexManifest
from .model import load_retriever
from .passages import passages_of
from .progress import progress_bar, stderr_console
from .recall import RecallReport, retrieval_recall


def evaluate_retriever(
    data: Path,
    index_dir: Path,
    model: str,
    data_format: str | None = None,
    split: str | None = None,
    top_k: int = 100,
    batch_size: int = 64,
    quiet: bool = False,
    passage_topic: str | None = None,
) -> RecallReport:
    """R@1, R@10, R@top_k and R@100; refuses an index built with another entity tower."""
    manifest = IndexManifest.read(index_dir)
    retriever, passage_config = load_retriever(model, manifest.encoder)
    if passage_topic is not None:
        passage_config = passage_config.model_copy(update={"topic": passage_topic})
    index = DenseIndex.load(index_dir, model_fingerprint=retriever.entity_encoder.fingerprint)
    documents = load_documents(data, index.kb, data_format, split)
    if not quiet:
        stderr_console.print(f"{data.name}: {documents.summary()}")
    passages = passages_of(documents.documents, retriever.passage_encoder.tokenizer, passage_config)
    with progress_bar("Encoding passages", len(passages), quiet) as advance:
        vectors = retriever.encode_passages(passages, batch_size, advance)
    return retrieval_recall(passages, vectors, index.search, index.kb, (1, 10, top_k, 100))
