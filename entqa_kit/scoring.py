"""InKB micro P/R/F1 with strong matching, GERBIL A2KB semantics.

A prediction is correct when its span matches a gold span exactly and its entity is
one of that gold mention's KB ids. Gold mentions whose entity is not in the KB are
left out of recall, and a prediction on such a span is not counted at all (neither
right nor wrong). ``md_*`` scores spans only (entity ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .records import Document, LinkedDocument


@dataclass(frozen=True)
class LinkingScores:
    precision: float
    recall: float
    f1: float
    md_precision: float
    md_recall: float
    md_f1: float
    num_docs: int
    num_gold: int
    num_pred: int
    true_positives: int

    def as_json(self) -> dict:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "md_f1": self.md_f1,
            "num_docs": self.num_docs,
            "num_gold": self.num_gold,
            "num_pred": self.num_pred,
        }


def _f1(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(100 * precision, 2), round(100 * recall, 2), round(100 * f1, 2)


def score_linking(documents: Sequence[Document], predictions: Sequence[LinkedDocument]) -> LinkingScores:
    predicted_by_doc = {p.id: p for p in predictions}
    tp = md_tp = counted = gold_total = 0
    for document in documents:
        gold = {(m.start, m.end): set(m.entities) for m in document.mentions if m.in_kb}
        out_of_kb = {(m.start, m.end) for m in document.mentions if not m.in_kb}
        gold_total += len(gold)
        matched: set[tuple[int, int]] = set()
        prediction = predicted_by_doc.get(document.id)
        for mention in prediction.mentions if prediction else []:
            span = (mention.start, mention.end)
            if span in out_of_kb and span not in gold:
                continue
            counted += 1
            if span in gold:
                md_tp += 1
                if mention.entity in gold[span] and span not in matched:
                    tp += 1
                    matched.add(span)
    precision, recall, f1 = _f1(tp, counted, gold_total)
    md_precision, md_recall, md_f1 = _f1(md_tp, counted, gold_total)
    return LinkingScores(
        precision, recall, f1, md_precision, md_recall, md_f1, len(documents), gold_total, counted, tp
    )
