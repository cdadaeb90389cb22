"""γ calibration: the curve from hand-computed outcomes, the floor-then-filter identity, and the CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan, Mention
from entqa_kit.documents import load_documents
from entqa_kit.evaluation.calibration import best_point, threshold_curve
from entqa_kit.evaluation.scoring import RankedOutcomes, ranked_outcomes
from entqa_kit.linking.linker import Linker
from entqa_kit.models.model_dir import read_model_config
from tests.conftest import FIXTURES

runner = CliRunner()


def test_curve_by_hand():
    outcomes = RankedOutcomes(
        scores=np.array([0.9, 0.8, 0.8, 0.3]), correct=np.array([True, False, True, True]), num_gold=4
    )
    points = threshold_curve(outcomes, floor=0.01)
    assert [p.num_pred for p in points] == [1, 3, 4], "a tie of scores is one threshold"
    assert [p.threshold for p in points] == pytest.approx([0.85, 0.55, 0.155])
    assert [(p.precision, p.recall) for p in points] == [(100.0, 25.0), (66.67, 50.0), (75.0, 75.0)]
    assert best_point(points).threshold == pytest.approx(0.155) and best_point(points).f1 == 75.0


def span(start, end, entity, score):
    return LinkedSpan(start=start, end=end, text="x", entity=entity, title=entity, score=score)


def test_outcomes_ignore_out_of_kb_spans_and_count_a_gold_span_once():
    text = "Alpha and Beta met Gamma."
    document = Document(
        id="d",
        text=text,
        mentions=[
            Mention(start=0, end=5, entities=("A",), label="Alpha"),
            Mention(start=10, end=14, entities=(), label="Beta"),
        ],
    )
    prediction = LinkedDocument(
        id="d",
        mentions=[
            span(0, 5, "A", 0.4),  # right
            span(0, 5, "A", 0.2),  # the same gold span again (only with overlaps allowed): wrong
            span(10, 14, "B", 0.9),  # on an out-of-KB gold span: not counted
            span(19, 24, "C", 0.7),  # no gold here: wrong
        ],
    )
    outcomes = ranked_outcomes([document], [prediction])
    assert outcomes.scores.tolist() == [0.7, 0.4, 0.2]
    assert outcomes.correct.tolist() == [False, True, False]
    assert outcomes.num_gold == 1
    counted = ranked_outcomes([document], [prediction], out_of_kb="wrong")
    assert counted.scores.tolist() == [0.9, 0.7, 0.4, 0.2], "the out-of-KB link now counts"
    assert counted.correct.tolist() == [False, False, True, False]


@pytest.mark.parametrize("quantile", [0.25, 0.5, 0.75])
def test_linking_at_a_floor_then_filtering_equals_linking_at_the_threshold(toy_model, quantile):
    model, index = toy_model
    low = Linker.from_pretrained(index, model, threshold=0.001)
    documents = load_documents(FIXTURES / "docs_toy.jsonl", low.index.kb).documents
    at_floor = low.link(documents)
    scores = sorted({m.score for d in at_floor for m in d.mentions})
    index_at = int(quantile * len(scores))
    threshold = (scores[index_at - 1] + scores[index_at]) / 2  # between two scores, as calibrate picks
    direct = Linker.from_pretrained(index, model, threshold=threshold).link(documents)
    filtered = [[(m.start, m.end, m.entity) for m in d.mentions if m.score > threshold] for d in at_floor]
    assert filtered == [[(m.start, m.end, m.entity) for m in d.mentions] for d in direct]
    assert sum(map(len, filtered)) < sum(len(d.mentions) for d in at_floor), "the floor keeps more spans"


def test_calibrate_cli_writes_the_best_threshold_and_a_plot(tmp_path, toy_model):
    import shutil

    model, index = toy_model
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    before = read_model_config(copy).link.threshold
    data = str(FIXTURES / "docs_toy.jsonl")
    result = runner.invoke(
        app, ["calibrate", data, "--index", str(index), "--model", str(copy), "-q", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    saved = read_model_config(copy)
    assert saved.link.threshold == report["threshold"] and saved.calibration.f1 == report["f1"]
    assert saved.calibration.previous_threshold == before
    assert report["f1"] == max(p["f1"] for p in report["curve"])
    assert (copy / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evaluated = runner.invoke(
        app, ["evaluate", data, "--index", str(index), "--model", str(copy), "-q", "--json"]
    )
    assert json.loads(evaluated.stdout)["f1"] == report["f1"], "evaluate at the saved γ reproduces it"
    assert "calibrated" in (copy / "README.md").read_text()


def test_calibrate_refuses_when_nothing_clears_the_floor(tmp_path, toy_model):
    model, index = toy_model
    result = runner.invoke(
        app,
        [
            "calibrate",
            str(FIXTURES / "docs_toy.jsonl"),
            "--index",
            str(index),
            "--model",
            str(model),
            "--floor",
            "1.0",
            "--no-write",
            "-q",
        ],
    )
    assert result.exit_code == 1 and "[E063]" in result.output


def test_calibrate_and_evaluate_can_count_links_on_out_of_kb_gold_as_wrong(tmp_path, toy_model):
    import shutil

    model, index = toy_model
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    lines = (FIXTURES / "docs_toy.jsonl").read_text().splitlines()
    narrow = [line.replace('"Q2"', '"NOT-IN-KB"') for line in lines]  # France's mentions: out of the KB
    data = tmp_path / "docs.jsonl"
    data.write_text("\n".join(narrow) + "\n")
    calibrated = runner.invoke(
        app,
        [
            "calibrate",
            str(data),
            "--index",
            str(index),
            "--model",
            str(copy),
            "--out-of-kb",
            "wrong",
            "-q",
            "--json",
        ],
    )
    assert calibrated.exit_code == 0, calibrated.output
    report = json.loads(calibrated.stdout)
    assert report["out_of_kb"] == "wrong" and read_model_config(copy).calibration.out_of_kb == "wrong"
    assert "out-of-KB gold mentions counted wrong" in (copy / "README.md").read_text()

    def evaluated(mode: str) -> dict:
        args = ["evaluate", str(data), "--index", str(index), "--model", str(copy), "--out-of-kb", mode]
        result = runner.invoke(app, [*args, "-q", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    wrong, ignored = evaluated("wrong"), evaluated("ignore")
    assert wrong["f1"] == report["f1"], "evaluate --out-of-kb wrong at the saved γ reproduces calibrate"
    assert wrong["num_pred"] >= ignored["num_pred"] and wrong["num_gold"] == ignored["num_gold"]
    refused = runner.invoke(
        app, ["evaluate", str(data), "--index", str(index), "--stage", "retriever", "--out-of-kb", "wrong"]
    )
    assert refused.exit_code == 1 and "[E100]" in refused.output
    bad = runner.invoke(app, ["evaluate", str(data), "--index", str(index), "--out-of-kb", "count", "-q"])
    assert bad.exit_code == 1 and "[E041]" in bad.output
