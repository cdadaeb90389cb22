import math

import numpy as np
import pytest

from entqa_kit.reading.spans import ScoredSpan, SpanCandidate, decode_spans, merge_spans, to_characters


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


def test_batched_decoding_agrees_with_single_pair_decoding():
    from entqa_kit.reading.spans import decode_batch

    rng = np.random.default_rng(0)
    pairs, width = 6, 9
    lengths = np.array([7, 7, 5, 7, 3, 7])
    start = rng.normal(size=(pairs, width)) * 2
    end = rng.normal(size=(pairs, width)) * 2
    for i, n in enumerate(lengths):
        start[i, n + 1 :] = -np.inf
        end[i, n + 1 :] = -np.inf
    start = start - np.log(np.exp(start).sum(1, keepdims=True))
    end = end - np.log(np.exp(end).sum(1, keepdims=True))
    rerank = np.full(pairs, 0.5)
    batch = decode_batch(start, end, lengths, rerank, threshold=0.0, top_p=3, max_span_tokens=4)
    for i, n in enumerate(lengths):
        single = decode_spans(start[i], end[i], int(n), top_p=3, max_span_tokens=4)
        got = sorted((s.start, s.end) for s in batch if s.pair == i)
        assert got == sorted((s.start, s.end) for s in single)
    high = decode_batch(start, end, lengths, rerank, threshold=0.2, top_p=3, max_span_tokens=4)
    assert all(s.score > 0.2 and s.score == pytest.approx(0.5 * s.probability) for s in high)
