"""Threshold calibration for a model that adds spans after the reader (``link.name_fallback``,
``link.abbreviations``): they are filled in at each γ.

A name match is added where no span above γ overlaps it (an abbreviation where its long form is
linked above γ), so what is added depends on γ and filtering one low-γ run by score is not enough
(as it is in :mod:`calibration`). Here the reader's spans are linked once at the floor, without
them; at each effective γ the spans above it are kept, the additions are filled in, and the result
is scored as ``evaluate`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan
from entqa_kit.evaluation.calibration import ThresholdPoint
from entqa_kit.evaluation.scoring import OutOfKb, score_linking
from entqa_kit.reading.spans import ScoredSpan


def effective_thresholds(predictions: Sequence[LinkedDocument], floor: float, most: int) -> list[float]:
    """Midpoints between consecutive distinct scores (as :func:`threshold_curve`), at most ``most``,
    after one γ above every score (the names alone)."""
    scores = sorted({m.score for d in predictions for m in d.mentions if m.score >= floor}, reverse=True)
    cuts = [max(floor, (high + low) / 2) for high, low in zip(scores, [*scores[1:], floor])]
    if len(cuts) > most:
        cuts = [cuts[round(i * (len(cuts) - 1) / (most - 1))] for i in range(most)]
    return [(scores[0] + 1) / 2, *cuts] if scores and scores[0] < 1 else cuts


PostProcess = Callable[[Document, list[ScoredSpan], float], list[ScoredSpan]]
"""``(document, the reader's spans at the floor, γ) -> spans``: those kept at γ and what the linker adds
after the reader (:meth:`~entqa_kit.linking.linker.Linker.post_process`)."""


def linked_at(
    documents: Sequence[Document],
    predictions: Sequence[LinkedDocument],
    post_process: PostProcess,
    cut: float,
) -> list[LinkedDocument]:
    """What linking at γ = ``cut`` gives: each document's spans (all of them: ``post_process`` keeps
    those above ``cut`` and may anchor lower ones on names), then ``post_process``."""
    by_id = {p.id: p for p in predictions}
    linked = []
    for document in documents:
        spans = [
            ScoredSpan(m.start, m.end, m.entity, m.score)
            for m in (by_id[document.id].mentions if document.id in by_id else [])
        ]
        mentions = [
            LinkedSpan.model_construct(
                start=s.start, end=s.end, text=document.text[s.start : s.end], entity=s.entity, title="",
                score=s.score,
            )
            for s in post_process(document, spans, cut)
        ]  # fmt: skip
        linked.append(LinkedDocument.model_construct(id=document.id, mentions=mentions))
    return linked


def post_processed_curve(
    documents: Sequence[Document],
    predictions: Sequence[LinkedDocument],
    post_process: PostProcess,
    floor: float,
    most: int = 300,
    out_of_kb: OutOfKb = "ignore",
) -> list[ThresholdPoint]:
    """One point per effective γ (high to low): the reader's spans above γ, then ``post_process``."""
    points = []
    for cut in effective_thresholds(predictions, floor, most):
        linked = linked_at(documents, predictions, post_process, cut)
        scores = score_linking(documents, linked, out_of_kb=out_of_kb)
        points.append(ThresholdPoint(cut, scores.precision, scores.recall, scores.f1, scores.num_pred))
    return points
