"""End-to-end retriever training of a tiny random model on the toy KB."""

import json

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.evaluation.retriever import evaluate_retriever
from entqa_kit.models.model_dir import read_model_config
from entqa_kit.training.recipes import load_recipe
from entqa_kit.training.retriever_stage import train_retriever
from tests.conftest import FIXTURES

runner = CliRunner()


def best_recorded_epoch(history: list[dict]) -> int:
    """The first epoch with the highest recorded dev R@1 (the recipe's recall_k)."""
    scores = [h["dev_recall_at"]["1"] for h in history]
    return scores.index(max(scores)) + 1


def test_training_raises_recall_above_the_untrained_model(tmp_path, tiny_model, write_recipe):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    result = train_retriever(load_recipe(recipe_path), tmp_path / "model", quiet=True)
    # the untrained baseline: the same recipe with a learning rate of ~0
    baseline = load_recipe(recipe_path, ["retriever.epochs=1", "retriever.learning_rate=1e-12"])
    untouched = train_retriever(baseline, tmp_path / "untouched", quiet=True)
    trained = evaluate_retriever(
        FIXTURES / "docs_toy.jsonl", tmp_path / "index", str(tmp_path / "model"), quiet=True
    )
    assert trained.recall_at["1"] > untouched.dev_recall.recall_at["1"] + 10
    assert trained.recall_at == result.dev_recall.recall_at
    config = read_model_config(tmp_path / "model")
    assert len(config.training.history) == 3
    assert config.training.best_epoch == best_recorded_epoch(config.training.history)
    assert (tmp_path / "model" / "retriever" / "passage_encoder" / "model.safetensors").is_file()
    assert (tmp_path / "model" / "README.md").is_file()
    assert not list((tmp_path / "model").rglob("*.bin")) and not list((tmp_path / "model").rglob("*.pt"))


def test_resume_continues_after_the_last_finished_epoch(tmp_path, tiny_model, write_recipe):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    first = load_recipe(recipe_path, ["retriever.epochs=1"])
    train_retriever(first, tmp_path / "model", quiet=True)
    state = json.loads((tmp_path / "model" / "checkpoints" / "last" / "state.json").read_text())
    assert state["epochs_done"] == 1
    result = train_retriever(
        load_recipe(recipe_path, ["retriever.epochs=2"]), tmp_path / "model", resume=True, quiet=True
    )
    history = read_model_config(tmp_path / "model").training.history
    assert [h["epoch"] for h in history] == [1, 2], "epoch 1 was not trained again"
    assert history[0] == state["history"][0]
    assert result.best_epoch == best_recorded_epoch(history)


def test_two_tower_training_reindexes_the_kb(tmp_path, tiny_model, write_recipe):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index", freeze_entity_tower=False, epochs=1)
    result = train_retriever(load_recipe(recipe_path), tmp_path / "model", quiet=True)
    assert result.reindexed and result.index_dir == tmp_path / "model" / "index"
    assert (tmp_path / "model" / "retriever" / "entity_encoder" / "model.safetensors").is_file()
    report = evaluate_retriever(
        FIXTURES / "docs_toy.jsonl", result.index_dir, str(tmp_path / "model"), quiet=True
    )
    assert report.num_passages == 41
    from entqa_kit.core.errors import EntQAError

    with pytest.raises(EntQAError) as caught:
        evaluate_retriever(
            FIXTURES / "docs_toy.jsonl", tmp_path / "index", str(tmp_path / "model"), quiet=True
        )
    assert caught.value.code == "E031", "the base index no longer matches the trained entity tower"
    manual = tmp_path / "manual-index"
    indexed = runner.invoke(
        app,
        [
            "index",
            str(FIXTURES / "kb_native.jsonl"),
            "--out",
            str(manual),
            "--model",
            str(tmp_path / "model"),
            "-q",
        ],
    )
    assert indexed.exit_code == 0, indexed.output
    again = evaluate_retriever(FIXTURES / "docs_toy.jsonl", manual, str(tmp_path / "model"), quiet=True)
    assert again.recall_at == report.recall_at


def test_cli_train_and_evaluate_json(tmp_path, tiny_model, write_recipe):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    result = runner.invoke(
        app,
        [
            "train",
            "--recipe",
            str(recipe_path),
            "--out",
            str(tmp_path / "m"),
            "--stage",
            "retriever",
            "--set",
            "retriever.epochs=1",
            "-q",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["best_epoch"] == 1
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(FIXTURES / "docs_toy.jsonl"),
            "--index",
            str(tmp_path / "index"),
            "--model",
            str(tmp_path / "m"),
            "--stage",
            "retriever",
            "-q",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["recall_at"]) == {"1", "10", "100"} and set(report["doc_recall_at"]) == {
        "1",
        "10",
        "100",
    }
    assert report["num_passages"] == 41 and report["num_docs"] == 41


def test_cli_rejects_a_bad_recipe_value(tmp_path, tiny_model, write_recipe):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    result = runner.invoke(
        app,
        ["train", "--recipe", str(recipe_path), "--out", str(tmp_path / "m"), "--set", "retriever.epochs=0"],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: [E040] invalid configuration: toy.toml: retriever.epochs")
