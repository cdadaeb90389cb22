"""Retriever evaluation on labelled documents against an index."""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.display import literal
from entqa_kit.core.progress import progress_bar, stderr_console
from entqa_kit.documents import load_labelled_documents
from entqa_kit.documents.passages import passages_of
from entqa_kit.evaluation.recall import RecallReport, retrieval_recall
from entqa_kit.index.dense import DenseIndex, IndexManifest
from entqa_kit.retrieval.loading import load_retriever


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
    documents = load_labelled_documents(data, index.kb, data_format, split)
    if not quiet:
        stderr_console.print(f"{literal(data.name)}: {documents.summary()}")
    passages = passages_of(documents.documents, retriever.passage_encoder.tokenizer, passage_config)
    with progress_bar("Encoding passages", len(passages), quiet) as advance:
        vectors = retriever.encode_passages(passages, batch_size, advance)
    return retrieval_recall(passages, vectors, index.search, index.kb, (1, 10, top_k, 100))
