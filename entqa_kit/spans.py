"""Span decoding and merging (paper section 2.3), as plain array code.

For each (passage, candidate) pair: keep the top-P spans whose probability beats
the [CLS] "no mention" span and that are at most ``max_span_tokens`` long; a span is
labelled when ``p_rerank * p_span > threshold``. Spans then map to characters and
are merged across overlapping passages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpanCandidate:
    """A decoded span of one pair: wordpiece positions (1-based in the passage) and its probability."""

    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class ScoredSpan:
    """A labelled character span of a document."""

    start: int
    end: int
    entity: str
    score: float


def decode_spans(
    start_logp: np.ndarray,
    end_logp: np.ndarray,
    passage_length: int,
    top_p: int = 3,
    max_span_tokens: int = 10,
) -> list[SpanCandidate]:
    """Top-P spans of one pair that beat the null span; positions 1..passage_length are tokens."""
    null = start_logp[0] + end_logp[0]
    starts = start_logp[1 : passage_length + 1]
    ends = end_logp[1 : passage_length + 1]
    joint = starts[:, None] + ends[None, :]
    offsets = np.arange(passage_length)
    width = offsets[None, :] - offsets[:, None]
    valid = (width >= 0) & (width < max_span_tokens) & (joint > null)
    if not valid.any():
        return []
    scores = np.where(valid, joint, -np.inf).ravel()
    best = np.argsort(-scores, kind="stable")[:top_p]
    return [
        SpanCandidate(int(i // passage_length) + 1, int(i % passage_length) + 1, float(np.exp(scores[i])))
        for i in best
        if np.isfinite(scores[i])
    ]


def to_characters(span: SpanCandidate, offsets: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Document character span of wordpiece positions ``start..end`` (1-based, inclusive)."""
    return offsets[span.start - 1][0], offsets[span.end - 1][1]


def merge_spans(spans: Iterable[ScoredSpan], allow_overlaps: bool = False) -> list[ScoredSpan]:
    """Count each (start, end, entity) once with its best score; resolve overlaps by score unless allowed."""
    best: dict[tuple[int, int, str], ScoredSpan] = {}
    for span in spans:
        key = (span.start, span.end, span.entity)
        if key not in best or span.score > best[key].score:
            best[key] = span
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.start, s.end, s.entity))
    if allow_overlaps:
        kept = ranked
    else:
        kept = []
        for span in ranked:
            if all(span.end <= k.start or k.end <= span.start for k in kept):
                kept.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end, -s.score))
