"""A newcomer's first hour: inputs checked before loading, summaries, hints for CSV and model paths."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.index.build import build_index
from entqa_kit.models.default import DEFAULT_MODEL_DIR
from tests.conftest import FIXTURES

runner = CliRunner()


def test_link_checks_its_inputs_before_loading_the_model(tmp_path, tiny_index, monkeypatch):
    from entqa_kit.linking.linker import Linker

    def no_loading(*args, **kwargs):
        raise AssertionError("the model must not load for a missing input")

    monkeypatch.setattr(Linker, "from_pretrained", no_loading)
    missing = tmp_path / "nope.txt"
    result = runner.invoke(app, ["link", str(missing), "--index", str(tiny_index)])
    assert result.exit_code == 1
    assert result.output == f"error: [E001] {missing}: file not found; check the path\n"


def test_link_out_prints_a_summary_and_json_summary(tmp_path, toy_model):
    model, index = toy_model
    doc = tmp_path / "doc.txt"
    doc.write_text("Yesterday we read about Paris in the news.")
    out = tmp_path / "pred.jsonl"
    args = ["link", str(doc), "--index", str(index), "--model", str(model), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    mentions = len(predictions[0]["mentions"])
    plural = "" if mentions == 1 else "s"
    assert result.stdout == ""
    last = result.stderr.rstrip().splitlines()[-1]
    assert last.startswith(f"Linked 1 document, {mentions} mention{plural} in ")
    assert last.endswith(f" s; wrote predictions {out}")
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["documents"], summary["mentions"], summary["out"]) == (1, mentions, str(out))


def test_semicolon_csv_gets_a_delimiter_hint(tmp_path):
    kb = tmp_path / "kb.csv"
    kb.write_text("id;title;description\nQ1;Paris;Capital of France.\n")
    result = runner.invoke(app, ["index", str(kb), "--out", str(tmp_path / "idx")])
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E095] {kb}: column 'id' not found in the header (id;title;description), which was read as "
        "one column but contains semicolons; the file looks semicolon-separated: pass --delimiter ';'\n"
    )


def test_tab_separated_csv_gets_a_tab_hint(tmp_path):
    kb = tmp_path / "kb.csv"
    kb.write_text("id\ttitle\nQ1\tParis\n")
    result = runner.invoke(app, ["index", str(kb), "--out", str(tmp_path / "idx")])
    assert result.exit_code == 1
    assert result.output.startswith("error: [E095]") and result.output.endswith("pass --delimiter tab\n")


def test_index_help_explains_the_table_options_and_minilm():
    result = runner.invoke(app, ["index", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in (
        "Header of the column with the entity ids",
        "Column with aliases, split on --list-sep",
        "'minilm'",
    ):
        assert text in result.output


def test_index_rate_counts_encoding_only(tmp_path, tiny_encoder):
    result = build_index(FIXTURES / "kb_native.jsonl", tmp_path / "idx", encoder=tiny_encoder, quiet=True)
    assert 0 < result.encode_seconds < result.seconds
    assert result.entities_per_second == pytest.approx(result.encoded / result.encode_seconds)


def test_model_that_is_a_plain_hugging_face_model_says_how_to_use_it(tmp_path, tiny_model, tiny_index):
    doc = tmp_path / "doc.txt"
    doc.write_text("Paris.")
    result = runner.invoke(app, ["link", str(doc), "--index", str(tiny_index), "--model", str(tiny_model)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E093] {tiny_model}: not an entqa-kit model directory (no entqa_config.json); it is a plain "
        "Hugging Face model (it has config.json): use it as an entity encoder ('entqa-kit index KB --out DIR "
        f"--model {tiny_model}'), or as the encoder model or reader.model of a training recipe and train an "
        "entqa-kit model from it ('entqa-kit train --recipe ...')\n"
    )


@pytest.mark.parametrize(
    ("folder", "hint"),
    [
        ("empty", "give a directory written by 'entqa-kit train' or 'entqa-kit export'"),
        ("index", "it is an index directory (it has manifest.json): pass it as --index"),
    ],
)
def test_model_folder_that_is_not_a_model_is_named_so(tmp_path, tiny_index, folder, hint):
    doc = tmp_path / "doc.txt"
    doc.write_text("Paris.")
    model = tiny_index if folder == "index" else tmp_path / "empty"
    model.mkdir(exist_ok=True)
    result = runner.invoke(app, ["link", str(doc), "--index", str(tiny_index), "--model", str(model)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E093] {model}: not an entqa-kit model directory")
    assert hint in result.output


def test_export_into_an_existing_folder_is_e094_and_a_non_model_e093(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(DEFAULT_MODEL_DIR / "entqa_config.json", model / "entqa_config.json")
    out = tmp_path / "copy"
    out.mkdir()
    result = runner.invoke(app, ["export", str(model), "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E094] {out}: already exists; choose a new --out directory or pass --overwrite "
        "to replace it\n"
    )
    result = runner.invoke(app, ["export", str(tmp_path / "copy"), "--out", str(tmp_path / "other")])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E093] {out}: not an entqa-kit model directory")


def test_progress_rate_below_one_per_second_is_not_zero():
    from entqa_kit.core.progress import rate_text

    assert (rate_text(0.45), rate_text(3.0), rate_text(1234.4), rate_text(None)) == (
        "0.45/s",
        "3/s",
        "1,234/s",
        "",
    )
