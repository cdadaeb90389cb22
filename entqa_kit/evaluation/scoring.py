"""InKB micro P/R/F1 with strong matching, GERBIL A2KB semantics.

A prediction is correct when its span matches a gold span exactly and its entity is
one of that gold mention's KB ids. Gold mentions whose entity is not in the KB are
left out of recall, and a prediction on such a span is not counted at all (neither
right nor wrong), unless ``out_of_kb="wrong"``: then it counts as a wrong link, as it does for a
user whose KB lacks that entity (a narrow KB; see ``calibrate --out-of-kb wrong``). ``md_*`` scores
spans only (entity ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan

OutOfKb = Literal["ignore", "wrong"]
OUT_OF_KB_CHOICES: tuple[str, ...] = get_args(OutOfKb)


@dataclass(frozen=True)
class LinkingScores:
    """Percentages (0-100) and counts."""

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
    ed_accuracy: float = 0.0
    macro_f1: float = 0.0

    def as_json(self) -> dict:
        keys = (
            "precision",
            "recall",
            "f1",
            "md_f1",
            "ed_accuracy",
            "macro_f1",
            "num_docs",
            "num_gold",
            "num_pred",
        )
        return {key: getattr(self, key) for key in keys}


@dataclass(frozen=True)
class LinkingError:
    """A false positive or false negative, with its context, for inspection."""

    document_id: str
    kind: str  # "false_positive" or "false_negative"
    start: int
    end: int
    text: str
    predicted: str | None
    gold: tuple[str, ...]
    context: str

    @classmethod
    def at(
        cls, document: Document, kind: str, span: tuple[int, int], predicted: str | None, gold
    ) -> LinkingError:
        text = document.text
        start, end = span
        return cls(
            document.id,
            kind,
            start,
            end,
            text[start:end],
            predicted,
            tuple(sorted(gold)),
            _context(text, start, end),
        )


def check_out_of_kb(out_of_kb: str) -> bool:
    """Whether links on out-of-KB gold mentions count (as wrong); E041 unless ``out_of_kb`` is one of
    :data:`OUT_OF_KB_CHOICES`."""
    if out_of_kb not in OUT_OF_KB_CHOICES:
        from entqa_kit.core.errors import EntQAError

        raise EntQAError("E041", what="--out-of-kb", expected=", ".join(OUT_OF_KB_CHOICES), value=out_of_kb)
    return out_of_kb == "wrong"


def _f1(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(100 * precision, 2), round(100 * recall, 2), round(100 * f1, 2)


def _context(text: str, start: int, end: int, width: int = 40) -> str:
    return f"{text[max(0, start - width) : start]}[[{text[start:end]}]]{text[end : end + width]}".replace(
        "\n", " "
    )


@dataclass
class _DocumentGold:
    """One document's in-KB gold spans, its out-of-KB spans, and the gold spans matched so far."""

    gold: dict[tuple[int, int], set[str]]
    out_of_kb: set[tuple[int, int]]
    out_of_kb_counts: bool = False
    matched: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def of(cls, document: Document, out_of_kb_counts: bool = False) -> _DocumentGold:
        gold = {(m.start, m.end): set(m.entities) for m in document.mentions if m.in_kb}
        outside = {(m.start, m.end) for m in document.mentions if not m.in_kb}
        return cls(gold, outside, out_of_kb_counts)

    def judge(self, mention: LinkedSpan) -> tuple[bool, bool] | None:
        """None when the prediction is not counted (it sits on an out-of-KB span and those are
        ignored); otherwise (span right, span and entity right). Each gold span matches at most once."""
        span = (mention.start, mention.end)
        if span in self.out_of_kb and span not in self.gold:
            return (False, False) if self.out_of_kb_counts else None
        hit = span in self.gold and mention.entity in self.gold[span] and span not in self.matched
        if hit:
            self.matched.add(span)
        return span in self.gold, hit


def score_linking(
    documents: Sequence[Document],
    predictions: Sequence[LinkedDocument],
    errors: list[LinkingError] | None = None,
    out_of_kb: OutOfKb = "ignore",
) -> LinkingScores:
    """Micro scores over all documents (macro F1 averages per-document F1); fills ``errors`` if given.

    ``out_of_kb``: ``ignore`` (GERBIL InKB) or ``wrong`` (a link on an out-of-KB gold mention is a
    false positive)."""
    counts = check_out_of_kb(out_of_kb)
    predicted_by_doc = {p.id: p for p in predictions}
    tp = md_tp = counted = gold_total = 0
    per_document_f1 = []
    for document in documents:
        judge = _DocumentGold.of(document, counts)
        gold_total += len(judge.gold)
        prediction = predicted_by_doc.get(document.id)
        doc_tp = doc_counted = 0
        for mention in prediction.mentions if prediction else []:
            verdict = judge.judge(mention)
            if verdict is None:
                continue
            span_right, hit = verdict
            doc_counted += 1
            md_tp += span_right
            if hit:
                doc_tp += 1
            elif errors is not None:
                span = (mention.start, mention.end)
                wrong = LinkingError.at(
                    document, "false_positive", span, mention.entity, judge.gold.get(span, ())
                )
                errors.append(wrong)
        if errors is not None:
            for span, entities in judge.gold.items():
                if span not in judge.matched:
                    errors.append(LinkingError.at(document, "false_negative", span, None, entities))
        tp += doc_tp
        counted += doc_counted
        if judge.gold or doc_counted:
            per_document_f1.append(_f1(doc_tp, doc_counted, len(judge.gold))[2])
    precision, recall, f1 = _f1(tp, counted, gold_total)
    md_precision, md_recall, md_f1 = _f1(md_tp, counted, gold_total)
    return LinkingScores(
        precision,
        recall,
        f1,
        md_precision,
        md_recall,
        md_f1,
        len(documents),
        gold_total,
        counted,
        tp,
        ed_accuracy=round(100 * tp / md_tp, 2) if md_tp else 0.0,
        macro_f1=round(sum(per_document_f1) / len(per_document_f1), 2) if per_document_f1 else 0.0,
    )


@dataclass(frozen=True)
class RankedOutcomes:
    """Counted predictions sorted by descending score, each marked correct or not.

    Keeping the first ``n`` of them is exactly what a threshold just below ``scores[n - 1]`` keeps,
    so precision and recall at every threshold come from cumulative sums (see ``calibration``).
    """

    scores: np.ndarray
    correct: np.ndarray
    num_gold: int


def ranked_outcomes(
    documents: Sequence[Document], predictions: Sequence[LinkedDocument], out_of_kb: OutOfKb = "ignore"
) -> RankedOutcomes:
    """Score-sorted outcomes with the same rules as :func:`score_linking` (out-of-KB spans ignored or
    wrong as ``out_of_kb`` says; a gold span matches at most once, by its best-scored prediction)."""
    counts = check_out_of_kb(out_of_kb)
    predicted_by_doc = {p.id: p for p in predictions}
    scores: list[float] = []
    correct: list[bool] = []
    num_gold = 0
    for document in documents:
        judge = _DocumentGold.of(document, counts)
        num_gold += len(judge.gold)
        prediction = predicted_by_doc.get(document.id)
        for mention in sorted(prediction.mentions if prediction else [], key=lambda m: -m.score):
            verdict = judge.judge(mention)
            if verdict is not None:
                scores.append(mention.score)
                correct.append(verdict[1])
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return RankedOutcomes(
        np.asarray(scores, dtype=np.float64)[order], np.asarray(correct, dtype=bool)[order], num_gold
    )
