import math

import pytest
import torch

from entqa_kit.core.records import Passage
from entqa_kit.reading.pair import build_inputs, pair_ids, reader_loss


def test_reader_loss_matches_a_hand_computation():
    # one passage, K=2 candidates; candidate 0 is gold with span (1, 2), candidate 1 is not gold.
    start = torch.log(torch.tensor([[0.1, 0.6, 0.3], [0.7, 0.2, 0.1]]))
    end = torch.log(torch.tensor([[0.2, 0.1, 0.7], [0.5, 0.25, 0.25]]))
    rerank = torch.tensor([2.0, 0.0])
    loss = reader_loss(start, end, rerank, [[(1, 2)], []], candidates_per_passage=2)
    p_rerank_gold = math.exp(2.0) / (math.exp(2.0) + math.exp(0.0))
    expected = -math.log(p_rerank_gold) - math.log(0.6) - math.log(0.7) - math.log(0.7) - math.log(0.5)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_reader_loss_sums_every_gold_span_and_averages_passages():
    start = torch.log(torch.full((4, 3), 1 / 3))
    end = torch.log(torch.full((4, 3), 1 / 3))
    rerank = torch.zeros(4)
    loss = reader_loss(start, end, rerank, [[(1, 1), (2, 2)], [], [], [(0, 0)]], candidates_per_passage=2)
    # passage 1: gold rerank + two spans; passage 2: one null span for the non-gold, gold rerank + one span
    terms = [
        math.log(2),
        2 * math.log(3),
        2 * math.log(3),
        2 * math.log(3),
        2 * math.log(3),
        math.log(2),
        2 * math.log(3),
    ]
    expected = sum(terms) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_pair_layout_and_span_mask(tiny_encoder):
    tokenizer = tiny_encoder.tokenizer
    passage = Passage(
        document_id="d", index=0, token_ids=(1996, 2158), offsets=((0, 3), (4, 7)), topic_ids=(4715,)
    )
    ids, types = pair_ids(passage, [3000, 3001, 3002], tokenizer)
    assert ids == [
        tokenizer.cls_token_id,
        1996,
        2158,
        4715,
        tokenizer.sep_token_id,
        3000,
        3001,
        3002,
        tokenizer.sep_token_id,
    ]
    assert types == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    inputs = build_inputs([passage, passage], [[3000], [3000, 3001, 3002]], tokenizer)
    assert inputs.input_ids.shape == (2, 9)
    assert inputs.span_mask[0].tolist() == [True, True, True] + [False] * 6, "CLS and the passage only"
    assert inputs.attention_mask[0].sum() == 7
