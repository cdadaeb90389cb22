"""Predictions that match no document, or whose spans lie outside the text: evaluate and
calibrate refuse them with a coded line.

Part of the bad-input classes listed in tests/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from tests.conftest import one_error

runner = CliRunner()


# 7-8. predictions that match no document, or whose spans lie outside the text


@pytest.fixture
def labelled(tmp_path) -> Path:
    docs = tmp_path / "docs.jsonl"
    rows = [
        {"id": "d1", "text": "Paris is big.", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]},
        {"id": "d2", "text": "France too.", "mentions": [{"start": 0, "end": 6, "entity": "Q2"}]},
    ]
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return docs


def evaluate_predictions(docs, index, lines, tmp_path, *extra):
    preds = tmp_path / "pred.jsonl"
    preds.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = runner.invoke(
        app, ["evaluate", str(docs), "--index", str(index), "--predictions", str(preds), *extra]
    )
    return result, preds


def test_predictions_that_match_no_document_are_refused(tmp_path, tiny_index, labelled):
    lines = [{"id": "x1", "mentions": []}, {"id": "x2", "mentions": []}]
    result, preds = evaluate_predictions(labelled, tiny_index, lines, tmp_path)
    message = one_error(result, "E076", f"{preds}: none of its 2 predicted documents matches")
    assert "'x1', 'x2'" in message


def test_a_partial_match_and_repeated_ids_are_reported(tmp_path, tiny_index, labelled):
    span = {"start": 0, "end": 5, "text": "Paris", "entity": "Q1", "title": "Paris", "score": 0.9}
    lines = [{"id": "d1", "mentions": [span]}, {"id": "d1", "mentions": [span]}, {"id": "zz", "mentions": []}]
    result, _ = evaluate_predictions(labelled, tiny_index, lines, tmp_path, "--json")
    assert result.exit_code == 0, result.output
    assert "1 of 3 predicted documents match no document (ids such as 'zz')" in " ".join(
        result.stderr.split()
    )
    assert "1 predicted document repeats an earlier id" in " ".join(result.stderr.split())
    assert "1 document has no prediction" in " ".join(result.stderr.split())
    assert json.loads(result.stdout)["num_pred"] == 1


def test_predicted_text_that_differs_from_the_document_is_reported(tmp_path, tiny_index, labelled):
    span = {"start": 0, "end": 6, "text": "Spain!", "entity": "Q2", "title": "", "score": 0.9}
    lines = [{"id": "d1", "mentions": []}, {"id": "d2", "mentions": [span]}]
    result, _ = evaluate_predictions(labelled, tiny_index, lines, tmp_path)
    assert result.exit_code == 0, result.output
    assert "1 predicted mention has a text that differs" in " ".join(result.stderr.split())


@pytest.mark.parametrize("start, end", [(20, 25), (-1, 3), (4, 2), (3, 3), (10, 14)])
def test_predicted_offsets_outside_the_text(tmp_path, tiny_index, labelled, start, end):
    span = {"start": start, "end": end, "text": "", "entity": "Q1", "title": "", "score": 0.9}
    lines = [{"id": "d2", "mentions": []}, {"id": "d1", "mentions": [span]}]
    result, preds = evaluate_predictions(labelled, tiny_index, lines, tmp_path)
    message = one_error(result, "E077", f"{preds}:2: predicted mention [{start}, {end}) of document 'd1'")
    assert "(length 13)" in message


@pytest.mark.parametrize("case", ["no_match", "outside"])
def test_calibrate_checks_its_predictions(tmp_path, toy_model, labelled, case):
    model, index = toy_model
    span = {"start": 0, "end": 50, "text": "", "entity": "Q1", "title": "", "score": 0.5}
    line = {"id": "x1" if case == "no_match" else "d1", "mentions": [span] if case == "outside" else []}
    preds = tmp_path / "pred.jsonl"
    preds.write_text(json.dumps(line) + "\n")
    args = ["calibrate", str(labelled), "--index", str(index), "--model", str(model), "--no-write"]
    result = runner.invoke(app, [*args, "--predictions", str(preds)])
    one_error(result, "E076" if case == "no_match" else "E077", f"{preds}")
