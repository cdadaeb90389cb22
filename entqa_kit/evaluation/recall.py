"""Retriever recall: passage-level and document-level R@K over in-KB gold entities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from entqa_kit.core.records import Passage
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.retrieval.retriever import SearchFn

DEFAULT_KS = (1, 10, 100)


@dataclass(frozen=True)
class RecallReport:
    """Recall in percent, keyed by K (as strings, for JSON)."""

    recall_at: dict[str, float]
    doc_recall_at: dict[str, float]
    num_passages: int
    num_docs: int
    num_gold: int
    num_doc_gold: int

    def as_json(self) -> dict:
        return {
            "recall_at": self.recall_at,
            "doc_recall_at": self.doc_recall_at,
            "num_passages": self.num_passages,
            "num_docs": self.num_docs,
            "num_gold": self.num_gold,
            "num_doc_gold": self.num_doc_gold,
        }


def gold_rows(passages: Sequence[Passage], kb: KnowledgeBase) -> list[list[int]]:
    rows = []
    for passage in passages:
        found = (kb.row_of(e) for e in passage.gold)
        rows.append([r for r in found if r is not None])
    return rows


def retrieval_recall(
    passages: Sequence[Passage],
    passage_vectors: np.ndarray,
    search: SearchFn,
    kb: KnowledgeBase,
    ks: Sequence[int] = DEFAULT_KS,
) -> RecallReport:
    """Share of (passage, gold) pairs found in the passage's top K, and of (document, gold)
    pairs found in the union of its passages' top K. Only passages with golds count."""
    golds = gold_rows(passages, kb)
    keep = [i for i, g in enumerate(golds) if g]
    ks = sorted(set(ks))
    _, found = search(passage_vectors[keep], max(ks)) if keep else (None, np.zeros((0, max(ks)), dtype=int))
    hits = {k: 0 for k in ks}
    doc_gold: dict[str, set[int]] = defaultdict(set)
    doc_found: dict[int, dict[str, set[int]]] = {k: defaultdict(set) for k in ks}
    for position, i in enumerate(keep):
        doc = passages[i].document_id
        doc_gold[doc].update(golds[i])
        ranked = found[position]
        for k in ks:
            top = set(int(r) for r in ranked[:k])
            hits[k] += sum(1 for g in golds[i] if g in top)
            doc_found[k][doc].update(top)
    num_gold = sum(len(golds[i]) for i in keep)
    num_doc_gold = sum(len(g) for g in doc_gold.values())

    def percent(count: int, total: int) -> float:
        return round(100.0 * count / total, 2) if total else 0.0

    doc_hits = {k: sum(len(g & doc_found[k][d]) for d, g in doc_gold.items()) for k in ks}
    return RecallReport(
        recall_at={str(k): percent(hits[k], num_gold) for k in ks},
        doc_recall_at={str(k): percent(doc_hits[k], num_doc_gold) for k in ks},
        num_passages=len(keep),
        num_docs=len(doc_gold),
        num_gold=num_gold,
        num_doc_gold=num_doc_gold,
    )
