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


def write_recipe(tmp_path, tiny_model, index_dir, **retriever):
    settings = {
        "epochs": 3,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "num_negatives": 10,
        "hard_fraction": 0.2,
        "recall_k": 1,
        "score_scale": 20.0,
        "freeze_entity_tower": True,
    } | retriever
    lines = [
        'name = "toy"',
        "[data]",
        f'kb = "{FIXTURES / "kb_native.jsonl"}"',
        f'index = "{index_dir}"',
        f'train = "{FIXTURES / "docs_toy.jsonl"}"',
        f'dev = "{FIXTURES / "docs_toy.jsonl"}"',
        'format = "jsonl"',
        "[encoder]",
        f'model = "{tiny_model}"',
        'pooling = "mean"',
        "normalize = true",
        'dtype = "float32"',
        "[passages]",
        "length = 16",
        "stride = 8",
        "[retriever]",
        *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
    ]
    path = tmp_path / "toy.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_training_raises_recall_above_the_untrained_model(tmp_path, tiny_model):
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
    assert config.training.best_epoch in (1, 2, 3) and len(config.training.history) == 3
    assert (tmp_path / "model" / "retriever" / "passage_encoder" / "model.safetensors").is_file()
    assert (tmp_path / "model" / "README.md").is_file()
    assert not list((tmp_path / "model").rglob("*.bin")) and not list((tmp_path / "model").rglob("*.pt"))


def test_resume_continues_after_the_last_finished_epoch(tmp_path, tiny_model):
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
    assert result.best_epoch in (1, 2)


def test_two_tower_training_reindexes_the_kb(tmp_path, tiny_model):
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


def test_cli_train_and_evaluate_json(tmp_path, tiny_model):
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


def test_cli_rejects_a_bad_recipe_value(tmp_path, tiny_model):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    result = runner.invoke(
        app,
        ["train", "--recipe", str(recipe_path), "--out", str(tmp_path / "m"), "--set", "retriever.epochs=0"],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: [E040] invalid configuration: toy.toml: retriever.epochs")
