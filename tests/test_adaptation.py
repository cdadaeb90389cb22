"""Domain adaptation: ``init_from`` starts both stages from a trained model, and export keeps it usable."""

import json

import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from entqa_kit.training.reader_stage import train_reader
from entqa_kit.training.recipes import load_recipe
from entqa_kit.training.retriever_stage import train_retriever

runner = CliRunner()
STILL = [
    "retriever.epochs=1",
    "retriever.learning_rate=1e-12",
    "reader.epochs=1",
    "reader.learning_rate=1e-12",
]


def tensors(path):
    return {k: v.float() for k, v in load_file(str(path)).items()}


def close(a, b, tolerance=1e-4):
    return a.keys() == b.keys() and all((a[k] - b[k]).abs().max() <= tolerance for k in a)


def test_init_from_starts_both_stages_from_the_trained_model(tmp_path, toy_model, tiny_model, write_recipe):
    trained, index = toy_model
    recipe_path = write_recipe(tmp_path, tiny_model, index)
    reader = [f"reader.model={tiny_model}", "reader.train_k=3", "reader.dtype=float32"]
    adapted = load_recipe(recipe_path, [*reader, *STILL, f"init_from={trained}"])
    train_retriever(adapted, tmp_path / "adapted", quiet=True)
    train_reader(adapted, tmp_path / "adapted", quiet=True)
    tower = "retriever/passage_encoder/model.safetensors"
    heads = "reader/heads.safetensors"
    assert close(tensors(tmp_path / "adapted" / tower), tensors(trained / tower))
    assert close(tensors(tmp_path / "adapted" / heads), tensors(trained / heads))
    assert not close(tensors(trained / tower), tensors(tiny_model / "model.safetensors")), "sanity"


def test_init_from_refuses_a_model_with_another_entity_tower(
    tmp_path, toy_model, other_tiny_model, write_recipe
):
    trained, _ = toy_model
    recipe_path = write_recipe(tmp_path, other_tiny_model, tmp_path / "index")
    with pytest.raises(EntQAError) as caught:
        train_retriever(load_recipe(recipe_path, [f"init_from={trained}"]), tmp_path / "m", quiet=True)
    assert caught.value.code == "E040" and "init_from" in caught.value.message


def test_export_to_fp16_halves_the_weights_and_links_the_same(tmp_path, toy_model):
    model, index = toy_model
    out = tmp_path / "fp16"
    result = runner.invoke(app, ["export", str(model), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert not (out / "checkpoints").exists()
    for name in ("retriever/passage_encoder/model.safetensors", "reader/encoder/model.safetensors"):
        assert {str(t.dtype) for t in load_file(str(out / name)).values() if t.is_floating_point()} == {
            "torch.float16"
        }
        assert (out / name).stat().st_size < 0.6 * (model / name).stat().st_size
    text = "Yesterday we read about Paris in the news, and then about Tokyo."
    linked = [
        runner.invoke(
            app, ["link", "-", "--index", str(index), "--model", str(m), "--json", "-q"], input=text
        )
        for m in (model, out)
    ]
    original, exported = (json.loads(r.stdout)["mentions"] for r in linked)
    assert [(m["start"], m["end"], m["entity"]) for m in exported] == [
        (m["start"], m["end"], m["entity"]) for m in original
    ]
    again = runner.invoke(app, ["export", str(model), "--out", str(out)])
    assert again.exit_code == 1
    assert again.output == (
        f"error: [E094] {out}: already exists; choose a new --out directory or pass --overwrite "
        "to replace it\n"
    )
