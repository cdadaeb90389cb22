"""Silver training documents from a recipe's ``data.unlabelled``, mixed with its labelled documents.

Unlabelled documents (any readable format; their own labels are ignored) get silver mentions from the
KB's names (:class:`entqa_kit.kb.name_matcher.NameMatcher`, the matcher of ``entqa-kit silver``); a
silver Document JSONL written by ``entqa-kit silver`` is used as it is. Every silver mention carries
the label :data:`SILVER_LABEL`, so the training stages can tell silver from gold.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from entqa_kit.core.config import DataConfig, SilverConfig
from entqa_kit.core.records import Document, Mention
from entqa_kit.documents.base import DocumentSet
from entqa_kit.kb.store import KnowledgeBase

SILVER_LABEL = "silver"
"""The ``label`` of a silver mention (gold mentions carry their source's label)."""


def is_silver(mention: Mention) -> bool:
    return mention.label == SILVER_LABEL


def silver_documents(path: Path, kb: KnowledgeBase, config: SilverConfig | None = None) -> DocumentSet:
    """The documents of ``path`` with silver mentions: matched from the KB's names, or read from a silver
    Document JSONL (``config.source``)."""
    from entqa_kit.documents import document_format, load_documents

    config = config or SilverConfig()
    fmt = document_format(path)
    if config.source != "match" and fmt == "jsonl":
        read = load_documents(path, kb, "jsonl")
        if config.source == "file" or read.num_mentions:
            return _as_silver(read.documents, {})
    documents = [Document(id=d.id, text=d.text) for d in load_documents(path, None, fmt).documents]
    return _as_silver(documents, _matches(documents, kb, config))


def _matches(documents: list[Document], kb: KnowledgeBase, config: SilverConfig) -> dict[str, list[Mention]]:
    from entqa_kit.kb.name_matcher import MatcherOptions, NameMatcher

    options = MatcherOptions(
        min_chars=config.min_chars,
        ambiguous=config.ambiguous,
        case=config.case,
        max_doc_share=config.max_doc_share,
        variants=config.variants,
    )
    from entqa_kit.documents.silver_abbreviations import with_abbreviations

    corpus = NameMatcher.from_kb(kb, options).match_corpus([d.text for d in documents])
    found: dict[str, list[Mention]] = {}
    for document, matches in zip(documents, corpus.matches):
        if config.abbreviations:
            matches = with_abbreviations(document.text, matches)
        by_span: dict[tuple[int, int], list[str]] = defaultdict(list)
        for match in matches:  # ambiguous="all": several entities on one span make one mention
            by_span[(match.start, match.end)].append(match.entity_id)
        found[document.id] = [
            Mention(start=s, end=e, entities=tuple(ids), label=SILVER_LABEL)
            for (s, e), ids in by_span.items()
        ]
    return found


def _as_silver(documents: list[Document], matched: dict[str, list[Mention]]) -> DocumentSet:
    """Documents whose in-KB mentions (``matched``, else their own) are silver; out-of-KB ones dropped."""
    result = DocumentSet()
    for document in documents:
        own = [m for m in document.mentions if m.in_kb]
        mentions = matched.get(document.id, [m.model_copy(update={"label": SILVER_LABEL}) for m in own])
        result.add(Document(id=document.id, text=document.text, mentions=tuple(mentions)))
    return result


def mix_documents(labelled: DocumentSet, silver: DocumentSet, weight: float | None, seed: int) -> DocumentSet:
    """Labelled documents plus silver ones whose id no labelled document has: all of them, or
    ``weight`` per labelled document (drawn by ``seed``) when there are labelled documents."""
    from entqa_kit.documents import subsample

    taken = {d.id for d in labelled.documents}
    extra = [d for d in silver.documents if d.id not in taken]
    if weight is not None and labelled.documents:
        extra = subsample(extra, max(1, round(weight * len(labelled.documents))), seed)
    mixed = DocumentSet()
    for document in [*labelled.documents, *extra]:
        mixed.add(document)
    return mixed


def labelled_documents(data: DataConfig, kb: KnowledgeBase) -> DocumentSet:
    """A recipe's labelled documents: the first ``train_docs`` of ``train`` (none without ``train``)."""
    from entqa_kit.documents import load_documents

    if data.train is None:
        return DocumentSet()
    return load_documents(Path(data.train), kb, data.format, data.train_split).first(data.train_docs)


def training_documents(data: DataConfig, kb: KnowledgeBase, seed: int = 0) -> DocumentSet:
    """A recipe's labelled documents (the first ``train_docs``) and ``unlabelled``'s silver ones."""
    labelled = labelled_documents(data, kb)
    if data.unlabelled is None:
        return labelled
    silver = silver_documents(Path(data.unlabelled), kb, data.silver)
    return mix_documents(labelled, silver, data.unlabelled_weight, seed)
