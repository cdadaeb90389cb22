import math

import numpy as np
import pytest
import torch

from entqa_kit.retrieval.retriever import mine_hard_negatives, multi_label_nce_loss, sample_candidates


def test_nce_loss_matches_a_hand_computation():
    # passage 0 has golds at columns 0 and 1; passage 1 has gold at column 2.
    scores = torch.tensor([[2.0, 1.0, 0.5, -1.0], [0.0, 3.0, 1.0, 0.2]])
    gold = torch.tensor([[True, True, False, False], [False, False, True, False]])
    e = math.exp
    negatives_0 = e(0.5) + e(-1.0)  # the other gold (column 1) is not a negative for passage 0
    negatives_1 = e(0.0) + e(3.0) + e(0.2)
    expected = (
        -math.log(e(2.0) / (e(2.0) + negatives_0))
        - math.log(e(1.0) / (e(1.0) + negatives_0))
        - math.log(e(1.0) / (e(1.0) + negatives_1))
    ) / 3
    assert multi_label_nce_loss(scores, gold).item() == pytest.approx(expected, rel=1e-6)


def test_raising_another_gold_does_not_change_a_gold_instance():
    base = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    gold = torch.tensor([[True, True, False, False]])
    raised = base.clone()
    raised[0, 1] = 50.0  # a huge score on the *other* gold must not act as a negative for column 0
    naive = torch.nn.functional.cross_entropy(raised, torch.tensor([0]))
    loss = multi_label_nce_loss(raised, gold)
    expected_col0 = -math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(0.5) + math.exp(-1.0)))
    expected_col1 = -math.log(math.exp(50.0) / (math.exp(50.0) + math.exp(0.5) + math.exp(-1.0)))
    assert loss.item() == pytest.approx((expected_col0 + expected_col1) / 2, rel=1e-5)
    assert naive.item() > 40, "plain softmax NCE would punish the other gold"


def test_loss_has_gradients_for_golds_and_negatives():
    scores = torch.tensor([[1.0, 0.0, 2.0]], requires_grad=True)
    multi_label_nce_loss(scores, torch.tensor([[True, False, False]])).backward()
    assert scores.grad[0, 0] < 0 < scores.grad[0, 2]


def test_sample_candidates_shares_negatives_and_marks_golds():
    rng = np.random.default_rng(0)
    batch = sample_candidates([[3, 5], [7]], num_entities=50, num_random=10, hard_rows=[[8], [3]], rng=rng)
    rows = list(batch.rows)
    assert len(rows) == len(set(rows)), "deduplicated"
    assert {3, 5, 7, 8} <= set(rows)
    assert batch.gold_mask.shape == (2, len(rows))
    assert [rows[i] for i in np.flatnonzero(batch.gold_mask[0])] == [3, 5]
    assert [rows[i] for i in np.flatnonzero(batch.gold_mask[1])] == [7]
    # row 3 is gold for passage 0 but a (hard) negative for passage 1
    assert not batch.gold_mask[1, rows.index(3)]


def test_hard_negatives_exclude_every_gold():
    vectors = np.eye(6, dtype=np.float32)

    def search(queries, k):
        scores = queries @ vectors.T
        order = np.argsort(-scores, axis=1)[:, :k]
        return np.take_along_axis(scores, order, 1), order

    queries = np.array([[1, 0.9, 0.8, 0.1, 0, 0]], dtype=np.float32)
    assert mine_hard_negatives(search, queries, [[0, 1]], per_passage=2) == [[2, 3]]
    assert mine_hard_negatives(search, queries, [[0]], per_passage=0) == [[]]
