"""Reader training against cut-down KBs (``[reader_train] narrow_kb``): pivots, candidates, targets."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from entqa_kit.core.records import Passage
from entqa_kit.training.narrow_kb import narrow_candidates, narrow_pivots
from entqa_kit.training.reader_objectives import JointExample, JointObjective


def test_half_of_the_passages_with_golds_lose_them_the_rest_get_a_random_kind():
    rng = np.random.default_rng(0)
    golds = [[7]] * 2000 + [[]] * 500
    pivots = narrow_pivots(golds, 10_000, rng)
    assert 0.45 < np.mean(pivots[:2000] == -1) < 0.55  # the KB without the passage's golds
    assert np.all(pivots[2000:] >= 0)  # no gold to take out: always a random kind
    assert np.all(pivots < 10_000) and np.mean(pivots == 7) < 0.01


def test_cut_down_candidates_are_the_retrievers_best_without_golds_or_of_a_neighbourhood(tiny_index):
    from entqa_kit.index.dense import DenseIndex

    index = DenseIndex.load(tiny_index)
    count = len(index.kb)
    golds = [[row] for row in range(count)]  # each passage's gold: one KB row
    vectors = np.asarray(index.entity_vectors(np.arange(count)), dtype=np.float32)
    passages = vectors[::-1].copy()  # passage i looks like entity count-1-i
    _, retrieved = index.search(passages, 6)
    pivots = narrow_pivots(golds, count, np.random.default_rng(3))
    found = narrow_candidates(index, passages, golds, retrieved, k=3, size=5, seed=3)
    assert len(found) == count and {-1} < set(pivots.tolist())  # both kinds occur
    for passage, gold, pivot, best, rows in zip(passages, golds, pivots, retrieved, found):
        if pivot < 0:
            assert list(rows) == [int(r) for r in best if r not in gold][:3]
            continue
        _, neighbourhood = index.search(vectors[[pivot]], 5)
        pool = [int(r) for r in neighbourhood[0]]
        scores = {r: float(vectors[r] @ passage) for r in pool}
        assert list(rows) == sorted(pool, key=lambda r: -scores[r])[:3]


def _objective(narrow_kb: float, gold_drop: float = 0.0):
    train = SimpleNamespace(narrow_kb=narrow_kb, gold_drop=gold_drop)
    return SimpleNamespace(train=train, k=4)


def _example() -> JointExample:
    passage = Passage(document_id="d", index=0, token_ids=(1, 2, 3, 4), offsets=((0, 1),) * 4)
    mentions = ((0, 1, 10), (2, 3, 20))  # two mentions: gold rows 10 and 20
    return JointExample(passage, mentions, retrieved=(11, 12, 13, 14), narrow=(20, 21, 22, 23))


def test_a_cut_down_kb_shows_only_its_own_golds():
    example, rng = _example(), np.random.default_rng(0)
    rows = JointObjective.candidates(_objective(narrow_kb=1.0), example, rng)
    assert sorted(rows) == [20, 21, 22, 23]  # gold 10 is outside the cut-down KB: its mention learns none
    rows = JointObjective.candidates(_objective(narrow_kb=0.0), example, rng)
    assert sorted(rows) == [10, 11, 12, 20]  # the full KB: both golds, then the retriever's best


def test_the_share_of_passages_read_against_a_cut_down_kb_follows_narrow_kb():
    example, rng = _example(), np.random.default_rng(1)
    objective = _objective(narrow_kb=0.3)
    narrow = sum(10 not in JointObjective.candidates(objective, example, rng) for _ in range(2000))
    assert 0.25 < narrow / 2000 < 0.35


def test_a_recipe_with_narrow_kb_trains_a_joint_reader_that_links(tmp_path, tiny_model, toy_model):
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.model_dir import read_model_config
    from entqa_kit.training.reader_stage import train_reader
    from tests.conftest import toy_joint_recipe

    overrides = ["reader_train.epochs=1", "reader_train.train_k=3", "link.test_k=3", "link.dtype=float32"]
    overrides += ["reader_train.narrow_kb=0.5", "reader_train.narrow_kb_size=6"]
    recipe, model_dir = toy_joint_recipe(tmp_path, tiny_model, toy_model, *overrides)
    result = train_reader(recipe, model_dir, quiet=True)
    assert np.isfinite(result.final_loss)
    assert read_model_config(model_dir).reader_train.narrow_kb == 0.5
    linker = Linker.from_pretrained(model_dir=model_dir, index_dir=toy_model[1])
    linker.link("Yesterday we read about Paris in the news.")  # loads and reads without error
