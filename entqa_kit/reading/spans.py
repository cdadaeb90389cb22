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


def to_characters(span: SpanCandidate | PairSpan, offsets: Sequence[tuple[int, int]]) -> tuple[int, int]:
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


@dataclass(frozen=True)
class PairSpan:
    """A span kept for pair ``pair``: positions (1-based), p_span and the labelled score."""

    pair: int
    start: int
    end: int
    probability: float
    score: float


def decode_batch(
    start_logp: np.ndarray,
    end_logp: np.ndarray,
    passage_lengths: np.ndarray,
    rerank_probability: np.ndarray,
    threshold: float,
    top_p: int = 3,
    max_span_tokens: int = 10,
) -> list[PairSpan]:
    """:func:`decode_spans` for many pairs at once, then ``p_rerank * p_span > threshold``.

    ``start_logp``/``end_logp`` are ``[pairs, width]`` with position 0 the null span;
    positions past a pair's passage must be ``-inf``.
    """
    pairs, width = start_logp.shape
    length = int(passage_lengths.max(initial=0))
    if pairs == 0 or length == 0:
        return []
    starts = start_logp[:, 1 : length + 1]
    ends = end_logp[:, 1 : length + 1]
    joint = starts[:, :, None] + ends[:, None, :]
    offsets = np.arange(length)
    span_width = offsets[None, :] - offsets[:, None]
    allowed = (span_width >= 0) & (span_width < max_span_tokens)
    null = (start_logp[:, 0] + end_logp[:, 0])[:, None, None]
    joint = np.where(allowed[None] & (joint > null), joint, -np.inf).reshape(pairs, -1)
    take = min(top_p, joint.shape[1])
    best = np.argpartition(-joint, take - 1, axis=1)[:, :take]
    best_logp = np.take_along_axis(joint, best, axis=1)
    scores = rerank_probability[:, None] * np.exp(best_logp)
    rows, cols = np.nonzero(np.isfinite(best_logp) & (scores > threshold))
    flat = best[rows, cols]
    return [
        PairSpan(
            int(r),
            int(f // length) + 1,
            int(f % length) + 1,
            float(np.exp(best_logp[r, c])),
            float(scores[r, c]),
        )
        for r, c, f in zip(rows, cols, flat)
    ]
