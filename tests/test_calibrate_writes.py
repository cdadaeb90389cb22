"""calibrate: --no-write writes nothing into the model; the shipped default needs an explicit flag."""

import json
import shutil

from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.models.default import DEFAULT_MODEL_DIR
from tests.conftest import FIXTURES

runner = CliRunner()
DOCS = FIXTURES / "docs_toy.jsonl"


def gold_predictions(tmp_path):
    """Predictions that are the gold mentions of docs_toy.jsonl, with falling scores."""
    lines = []
    for number, line in enumerate(DOCS.read_text().splitlines()):
        doc = json.loads(line)
        mentions = [
            {
                "start": m["start"],
                "end": m["end"],
                "text": doc["text"][m["start"] : m["end"]],
                "entity": m["entity"],
                "title": m["entity"],
                "score": 0.9 - 0.01 * number,
            }
            for m in doc.get("mentions", [])
        ]
        lines.append(json.dumps({"id": doc["id"], "mentions": mentions}))
    path = tmp_path / "pred.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshot(directory):
    return {p.relative_to(directory): p.stat().st_mtime_ns for p in directory.rglob("*") if p.is_file()}


def test_calibrating_the_shipped_model_in_place_is_refused(tmp_path, tiny_index):
    before = snapshot(DEFAULT_MODEL_DIR)
    result = runner.invoke(app, ["calibrate", str(DOCS), "--index", str(tiny_index)])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"error: [E092] {DEFAULT_MODEL_DIR}: is the shipped default model inside the installed package;"
    )
    assert "--no-write" in result.output and "entqa-kit export" in result.output
    assert snapshot(DEFAULT_MODEL_DIR) == before


def test_no_write_with_the_default_model_writes_nothing(tmp_path, tiny_index):
    before = snapshot(DEFAULT_MODEL_DIR)
    assert before, "the shipped model has files"
    args = [
        "calibrate",
        str(DOCS),
        "--index",
        str(tiny_index),
        "--predictions",
        str(gold_predictions(tmp_path)),
    ]
    result = runner.invoke(app, [*args, "--no-write", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["written"] is False and report["plot"] is None
    assert snapshot(DEFAULT_MODEL_DIR) == before


def test_no_write_plots_only_where_asked_and_write_saves_into_a_copy(tmp_path, tiny_index):
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(DEFAULT_MODEL_DIR / "entqa_config.json", model / "entqa_config.json")
    config_before = (model / "entqa_config.json").read_text()
    predictions = gold_predictions(tmp_path)
    args = ["calibrate", str(DOCS), "--index", str(tiny_index), "--predictions", str(predictions)]
    result = runner.invoke(app, [*args, "--model", str(model), "--no-write", "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in model.iterdir()) == ["entqa_config.json"]
    assert (model / "entqa_config.json").read_text() == config_before
    plot = tmp_path / "curve.png"
    result = runner.invoke(app, [*args, "--model", str(model), "--no-write", "--plot", str(plot), "--quiet"])
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 0 and not (model / "calibration.png").exists()
    result = runner.invoke(app, [*args, "--model", str(model), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (model / "calibration.png").is_file()
    assert json.loads((model / "entqa_config.json").read_text())["calibration"]["data"] == DOCS.name
