"""The library front doors the CLI commands call, called from Python on the tiny fixtures."""

import json
import shutil

import pytest
from typer.testing import CliRunner

import entqa_kit
from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES

runner = CliRunner()
DOCS = FIXTURES / "docs_toy.jsonl"


def test_every_public_name_resolves():
    assert {"link_inputs", "calibrate", "train", "evaluate", "resolve_entity_encoder"} <= set(
        entqa_kit._PUBLIC
    )
    for name, module in entqa_kit._PUBLIC.items():
        value = getattr(entqa_kit, name)
        assert value is getattr(__import__(module, fromlist=[name]), name), name
    assert sorted(entqa_kit.__all__) == sorted(["__version__", *entqa_kit._PUBLIC])


def test_link_inputs_writes_predictions_and_html_and_collects_failures(tmp_path, toy_model):
    model, index = toy_model
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(
        "Paris was discussed at length by the committee.", encoding="utf-8"
    )
    (tmp_path / "docs" / "b.txt").write_text("  \n", encoding="utf-8")
    seen, failed = [], []
    result = entqa_kit.link_inputs(
        [tmp_path / "docs"],
        index_dir=index,
        model_dir=model,
        out=tmp_path / "pred.jsonl",
        html=tmp_path / "page.html",
        quiet=True,
        on_document=lambda document, linked: seen.append((document.id, linked.id)),
        on_failure=failed.append,
    )
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a.txt"] and seen == [("a.txt", "a.txt")]
    assert result.documents == 1 and result.total == 2
    assert result.mentions == len(rows[0]["mentions"]) > 0
    assert [f.code for f in result.failures] == ["E061"] and failed == result.failures
    assert (result.out, result.html) == (tmp_path / "pred.jsonl", tmp_path / "page.html")
    page = (tmp_path / "page.html").read_text()
    assert page.lower().startswith("<!doctype html>") and rows[0]["mentions"][0]["title"] in page
    assert result.as_json()["failures"] == [result.failures[0].message]
    strict = entqa_kit.link_inputs(
        [tmp_path / "docs" / "a.txt"], index_dir=index, model_dir=model, quiet=True, threshold=1.0
    )
    assert (strict.documents, strict.mentions, strict.out) == (1, 0, None), "overrides reach the linker"


def test_calibrate_without_writing_leaves_the_model_untouched(tmp_path, toy_model):
    model, index = toy_model
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    result = entqa_kit.calibrate(DOCS, index_dir=index, model_dir=copy, write=False, quiet=True)
    assert not result.written and result.plot is None
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before
    assert result.best.f1 == max(p.f1 for p in result.points) == result.record.f1
    plotted = entqa_kit.calibrate(
        DOCS, index_dir=index, model_dir=copy, write=True, plot=tmp_path / "curve.png", quiet=True
    )
    assert plotted.plot == tmp_path / "curve.png" and plotted.plot.read_bytes()[:4] == b"\x89PNG"
    assert not (copy / "calibration.png").exists(), "an explicit plot path replaces the default"
    saved = json.loads((copy / "entqa_config.json").read_text())
    assert saved["calibration"]["threshold"] == plotted.best.threshold == result.best.threshold


def test_resolve_entity_encoder(tmp_path, tiny_model, toy_model):
    from entqa_kit.models.model_dir import entity_encoder_config

    plain = entqa_kit.resolve_entity_encoder(str(tiny_model), pooling="mean", max_entity_tokens=32)
    assert (plain.model, plain.pooling, plain.max_entity_tokens) == (str(tiny_model), "mean", 32)
    model, _ = toy_model
    tower = entqa_kit.resolve_entity_encoder(str(model), dtype="float32")
    assert tower == entity_encoder_config(str(model)).model_copy(update={"dtype": "float32"})
    shipped = entqa_kit.resolve_entity_encoder()
    assert shipped == entity_encoder_config(str(entqa_kit.default_model_dir()))
    base = entqa_kit.resolve_entity_encoder(include_aliases=True)
    assert (base.model, base.include_aliases) == (shipped.model, True), "text options: the base encoder"
    with pytest.raises(EntQAError) as caught:
        entqa_kit.resolve_entity_encoder(str(model), pooling="cls", include_aliases=False)
    assert str(caught.value) == (
        f"[E040] invalid configuration: --pooling, --include-aliases cannot change the entity tower of "
        f"model {model}; drop them; fix the value"
    )


def test_train_runs_the_requested_stages(tmp_path, tiny_model, write_recipe):
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    result = entqa_kit.train(
        recipe_path, tmp_path / "m", stage="retriever", overrides=["retriever.epochs=1"], quiet=True
    )
    assert result.reader is None and result.retriever.best_epoch == 1
    summary = result.as_json()
    assert summary["model"] == str(tmp_path / "m") and summary["best_epoch"] == 1
    assert "reader_seconds" not in summary
    with pytest.raises(EntQAError) as caught:
        entqa_kit.train(recipe_path, tmp_path / "m", stage="both")
    assert caught.value.code == "E041"
    recipe = entqa_kit.load_recipe(recipe_path)
    with pytest.raises(EntQAError) as caught:
        entqa_kit.train(recipe, tmp_path / "m2", overrides=["retriever.epochs=0"])
    assert str(caught.value).startswith("[E040] invalid configuration: toy: retriever.epochs:")


def test_evaluate_linking_applies_top_k_and_batch_size(tmp_path, toy_model, monkeypatch):
    from entqa_kit.linking.linker import Linker

    model, index = toy_model
    batch_sizes = set()
    original = Linker.link_document

    def spy(self, document, batch_size=64, **kwargs):
        batch_sizes.add(batch_size)
        return original(self, document, batch_size, **kwargs)

    monkeypatch.setattr(Linker, "link_document", spy)
    args = ["evaluate", str(DOCS), "--index", str(index), "--model", str(model), "-q", "--json"]
    result = runner.invoke(app, [*args, "--top-k", "2", "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["recall_at"]) == {"1", "2", "10", "100"}, "K is the linker's test_k"
    assert batch_sizes == {5}
    report = entqa_kit.evaluate(DOCS, index_dir=index, model_dir=model, quiet=True)
    assert set(report.recall.recall_at) == {"1", "3", "10", "100"}, "the model's test_k (3) by default"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--predictions", "PRED", "--top-k", "2", "--batch-size", "8"],
            "[E100] --top-k, --batch-size cannot be used with --predictions (those documents are already "
            "linked); drop them, or link here with --model instead of --predictions",
        ),
        (
            ["--topic", "none"],
            "[E100] --topic cannot be used with --stage linking (the reader reads passages with the topic it "
            "was trained with); drop it, or measure retriever recall with --stage retriever --topic",
        ),
        (
            ["--stage", "retriever", "--predictions", "PRED", "--errors", "ERR"],
            "[E100] --predictions, --errors cannot be used with --stage retriever (it measures recall; it "
            "does not score linked spans); drop them, or use --stage linking",
        ),
    ],
)
def test_evaluate_refuses_options_that_cannot_apply(tmp_path, options, message):
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text('{"id": "d0-0", "mentions": []}\n')
    options = [
        str(predictions) if o == "PRED" else str(tmp_path / "e.jsonl") if o == "ERR" else o for o in options
    ]
    result = runner.invoke(app, ["evaluate", str(DOCS), "--index", str(tmp_path), *options])
    assert result.exit_code == 1
    assert result.output == f"error: {message}\n"
