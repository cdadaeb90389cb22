import math

import numpy as np
import pytest

from entqa_kit.spans import ScoredSpan, SpanCandidate, decode_spans, merge_spans, to_characters


def logp(values):
    array = np.array(values, dtype=float)
    return array - np.log(np.exp(array).sum())


def test_null_span_wins_when_it_is_most_likely():
    start = logp([5.0, 0.0, 0.0, 0.0])
    end = logp([5.0, 0.0, 0.0, 0.0])
    assert decode_spans(start, end, passage_length=3) == []


def test_top_p_spans_that_beat_null_with_probabilities():
    start = logp([0.0, 3.0, 1.0, 0.0])
    end = logp([0.0, 0.0, 3.0, 2.0])
    spans = decode_spans(start, end, passage_length=3, top_p=2)
    assert [(s.start, s.end) for s in spans] == [(1, 2), (1, 3)]
    assert spans[0].probability == pytest.approx(math.exp(start[1] + end[2]))
    assert all(s.probability > math.exp(start[0] + end[0]) for s in spans)


def test_end_before_start_and_long_spans_are_excluded():
    start = logp([0.0, 0.0, 0.0, 4.0])
    end = logp([0.0, 4.0, 0.0, 0.0])  # best end precedes the best start
    spans = decode_spans(start, end, passage_length=3, top_p=10, max_span_tokens=2)
    assert all(s.start <= s.end and s.end - s.start < 2 for s in spans)
    assert (3, 1) not in [(s.start, s.end) for s in spans]


def test_to_characters_uses_token_offsets():
    offsets = [(0, 3), (4, 9), (9, 12)]
    assert to_characters(SpanCandidate(2, 3, 0.5), offsets) == (4, 12)


def test_merge_dedupes_across_passages_keeping_the_best_score():
    merged = merge_spans(
        [ScoredSpan(0, 5, "Q1", 0.4), ScoredSpan(0, 5, "Q1", 0.9), ScoredSpan(10, 12, "Q2", 0.3)]
    )
    assert merged == [ScoredSpan(0, 5, "Q1", 0.9), ScoredSpan(10, 12, "Q2", 0.3)]


def test_overlaps_resolved_by_score_or_kept_when_allowed():
    spans = [
        ScoredSpan(0, 17, "ManUtd", 0.8),
        ScoredSpan(0, 10, "Manchester", 0.6),
        ScoredSpan(0, 17, "X", 0.1),
    ]
    assert merge_spans(spans) == [ScoredSpan(0, 17, "ManUtd", 0.8)]
    nested = merge_spans(spans, allow_overlaps=True)
    assert [(s.start, s.end, s.entity) for s in nested] == [
        (0, 10, "Manchester"),
        (0, 17, "ManUtd"),
        (0, 17, "X"),
    ]
