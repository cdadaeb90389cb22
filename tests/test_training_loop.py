"""One training loop for both stages, and the training defects a review found."""

from __future__ import annotations

import json

import pytest

from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES, toy_recipe


def test_history_records_the_epoch_mean_loss(tmp_path):
    import numpy as np
    import torch

    from entqa_kit.training.loop import EpochReport, FitConfig, fit

    class Constant:
        """A loss that is 1, 2, 3 on the three batches of an epoch (the weight does not move it)."""

        def __init__(self):
            self.weight = torch.nn.Linear(1, 1)
            self.calls = 0

        def modules(self):
            return {"w": self.weight}

        def parameter_groups(self, learning_rate):
            return [{"params": list(self.weight.parameters()), "lr": learning_rate}]

        def num_examples(self):
            return 3

        def batches(self, epoch, rng):
            yield from ([1], [2], [3])

        def loss(self, batch):
            return self.weight.weight.sum() * 0 + float(batch[0])

        def end_epoch(self, epoch):
            return EpochReport(score=float(-epoch), metrics={"dev": epoch})

        def save_best(self):
            self.calls += 1

    objective = Constant()
    config = FitConfig(2, 0.1, 0.0, 0, False, "checkpoints/toy-last", "toy")
    result = fit(objective, config, tmp_path, steps_per_epoch=3, quiet=True)
    assert [h["loss"] for h in result.history] == [2.0, 2.0], "the mean of 1, 2, 3, not the last batch"
    assert result.best_epoch == 1 and objective.calls == 1, "the higher score (epoch 1) is the best"
    assert result.steps == 6 and np.isfinite(result.seconds)


def test_checkpoint_scratch_names_belong_to_their_checkpoint(tmp_path):
    import torch

    from entqa_kit.training.checkpoint import save_checkpoint

    module = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(module.parameters())
    (tmp_path / "checkpoints" / "last.tmp").mkdir(parents=True)  # another stage's scratch folder
    (tmp_path / "checkpoints" / "last.tmp" / "keep").write_text("x")
    save_checkpoint(tmp_path, {"m": module}, optimizer, {"step": 1}, "checkpoints/reader-last")
    assert (tmp_path / "checkpoints" / "last.tmp" / "keep").is_file(), "another checkpoint's scratch is left"
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["last.tmp", "reader-last"]


@pytest.fixture
def unresolvable_recipe(tmp_path, tiny_model):
    """A recipe whose training documents have mentions, none of them a KB id."""
    docs = tmp_path / "docs.jsonl"
    lines = [json.loads(x) for x in (FIXTURES / "docs_toy.jsonl").read_text().splitlines()[:6]]
    for doc in lines:
        doc["mentions"] = [dict(m, entity="NOT-IN-KB") for m in doc["mentions"]]
    docs.write_text("".join(json.dumps(d) + "\n" for d in lines))
    path = toy_recipe(tmp_path, tiny_model, tmp_path / "index")
    path.write_text(path.read_text().replace(str(FIXTURES / "docs_toy.jsonl"), str(docs)))
    return path


def test_training_without_resolvable_gold_stops_with_counts(tmp_path, unresolvable_recipe):
    from entqa_kit.training.recipes import load_recipe
    from entqa_kit.training.retriever_stage import train_retriever

    recipe = load_recipe(unresolvable_recipe)
    with pytest.raises(EntQAError) as caught:
        train_retriever(recipe, tmp_path / "model", quiet=True)
    assert caught.value.code == "E044"
    assert "6 documents, 6 gold mentions read, 0 resolved" in caught.value.message


def test_reader_stage_without_resolvable_gold_stops_with_counts(tmp_path, toy_model, unresolvable_recipe):
    import shutil

    from entqa_kit.training.reader_stage import train_reader
    from entqa_kit.training.recipes import load_recipe

    model_dir, index_dir = toy_model
    shutil.copytree(model_dir, tmp_path / "model")
    recipe = load_recipe(unresolvable_recipe, [f"data.index={index_dir}"])
    with pytest.raises(EntQAError) as caught:
        train_reader(recipe, tmp_path / "model", quiet=True)
    assert caught.value.code == "E044" and "0 resolved" in caught.value.message


def test_retriever_stage_refuses_an_index_built_with_other_encoder_settings(tmp_path, tiny_model):
    from entqa_kit.training.recipes import load_recipe
    from entqa_kit.training.retriever_stage import train_retriever

    recipe_path = toy_recipe(tmp_path, tiny_model, tmp_path / "index")
    train_retriever(load_recipe(recipe_path, ["retriever.epochs=1"]), tmp_path / "m1", quiet=True)
    other = load_recipe(recipe_path, ["retriever.epochs=1", "encoder.max_entity_tokens=16"])
    with pytest.raises(EntQAError) as caught:
        train_retriever(other, tmp_path / "m2", quiet=True)
    assert caught.value.code == "E031"


def test_reader_stage_checks_the_vocabulary_without_init_from(tmp_path, toy_model, tiny_model):
    import shutil

    from transformers import AutoTokenizer

    from entqa_kit.training.reader_stage import train_reader
    from entqa_kit.training.recipes import load_recipe

    model_dir, index_dir = toy_model
    shutil.copytree(model_dir, tmp_path / "model")
    other = tmp_path / "other-vocab"
    shutil.copytree(tiny_model, other)
    tokenizer = AutoTokenizer.from_pretrained(other)
    tokenizer.add_tokens(["zzzqqq"])
    tokenizer.save_pretrained(other)
    recipe = load_recipe(
        toy_recipe(tmp_path, tiny_model, index_dir), [f"reader.model={other}", "reader_train.epochs=1"]
    )
    with pytest.raises(EntQAError) as caught:
        train_reader(recipe, tmp_path / "model", quiet=True)
    assert caught.value.code == "E043"


def test_two_tower_training_encodes_the_kb_once_per_epoch(tmp_path, tiny_model, monkeypatch):
    from entqa_kit.models.encoder import TextEncoder
    from entqa_kit.training.recipes import load_recipe
    from entqa_kit.training.retriever_stage import train_retriever

    calls = []
    original = TextEncoder.encode_ids

    def counting(self, ids, *args, **kwargs):
        if len(ids) == 20:  # the whole toy KB
            calls.append(len(ids))
        return original(self, ids, *args, **kwargs)

    monkeypatch.setattr(TextEncoder, "encode_ids", counting)
    recipe_path = toy_recipe(tmp_path, tiny_model, tmp_path / "index", freeze_entity_tower=False, epochs=2)
    train_retriever(load_recipe(recipe_path), tmp_path / "model", quiet=True)
    # the base index build, once before training, once after each of the 2 epochs (its vectors serve
    # both that epoch's dev recall and the next epoch's negatives), and the final re-index: 5, not 6
    assert len(calls) == 5
