"""Bad paths: outputs of the wrong kind, URI characters in index paths, broken links among the
inputs, missing files, directories given as files, numbers out of range.

Part of the bad-input classes listed in tests/README.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES, SURROGATE, evaluate_cli, one_error, paris_document, run_index

runner = CliRunner()


# 3. an output option naming the wrong kind of thing


@pytest.mark.parametrize(
    "command, option, kind",
    [
        ("index", "--out", "file"),
        ("train", "--out", "file"),
        ("export", "--out", "file"),
        ("link", "--out", "dir"),
        ("link", "--html", "dir"),
        ("evaluate", "--errors", "dir"),
        ("calibrate", "--plot", "dir"),
    ],
)
def test_an_output_of_the_wrong_kind_is_a_coded_error(tmp_path, tiny_model, command, option, kind):
    target = tmp_path / "taken"
    target.write_text("x") if kind == "file" else target.mkdir()
    kb = FIXTURES / "kb_native.jsonl"
    docs = FIXTURES / "docs_toy.jsonl"
    args = {
        "index": ["index", str(kb), "--model", str(tiny_model)],
        "train": ["train", "--recipe", str(tmp_path / "r.toml")],
        "export": ["export", str(tmp_path / "model")],
        "link": ["link", str(docs), "--index", str(tmp_path / "idx")],
        "evaluate": ["evaluate", str(docs), "--index", str(tmp_path / "idx")],
        "calibrate": ["calibrate", str(docs), "--index", str(tmp_path / "idx"), "--model", str(tmp_path)],
    }[command]
    result = runner.invoke(app, [*args, option, str(target)])
    code = "E072" if kind == "file" else "E073"
    message = one_error(result, code, f"{target}: {option} names an existing")
    assert ("must be a directory" if kind == "file" else "must be a file") in message


def test_an_errors_file_in_a_new_directory_is_written(tmp_path, tiny_index):
    docs = paris_document(tmp_path / "docs.jsonl")
    preds = tmp_path / "pred.jsonl"
    preds.write_text('{"id": "d1", "mentions": []}\n')
    errors = tmp_path / "new" / "dir" / "errors.jsonl"
    args = [
        "evaluate",
        str(docs),
        "--index",
        str(tiny_index),
        "--predictions",
        str(preds),
        "--errors",
        str(errors),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(errors.read_text())["kind"] == "false_negative"


def test_an_out_directory_below_a_file(tmp_path, tiny_model):
    (tmp_path / "file").write_text("x")
    result = run_index(FIXTURES / "kb_native.jsonl", tmp_path / "file" / "idx", tiny_model)
    one_error(result, "E072", f"{tmp_path / 'file'}: --out names an existing file")


# 4. characters that mean something in a URI, in the index path


@pytest.mark.parametrize("name", ["a#b", "what?mode=rw", "x%20y", "sp ace&[x]"])
def test_index_paths_with_uri_characters(tmp_path, tiny_encoder, name):
    from entqa_kit.index.build import build_index

    parent = tmp_path / name
    out = parent / "idx"
    build_index(FIXTURES / "kb_native.jsonl", out, encoder=tiny_encoder, quiet=True)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["search", str(out), "Paris", "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "no stray database file"


# 9. broken links among the inputs


def test_broken_link_in_a_directory_of_inputs_is_a_failure(tmp_path):
    from entqa_kit.documents.link_inputs import InputFailure, iter_inputs

    (tmp_path / "a.txt").write_text("Paris.")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    items = list(iter_inputs([str(tmp_path)]))
    assert len(items) == 2
    failure = next(i for i in items if isinstance(i, InputFailure))
    assert failure.error.code == "E078" and "nowhere.txt" in failure.error.message


@pytest.mark.parametrize("how", ["directory", "glob"])
def test_broken_link_for_the_txt_document_reader(tmp_path, how):
    from entqa_kit.documents.txt_dir import read_txt_documents

    (tmp_path / "a.txt").write_text("Paris.")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(EntQAError) as caught:
        read_txt_documents(tmp_path if how == "directory" else tmp_path / "*.txt")
    assert caught.value.code == "E078"


def test_link_counts_broken_links_and_bad_lines_as_failures(tmp_path, toy_model):
    model, index = toy_model
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Yesterday we read about Paris in the news.")
    (inputs / "b.txt").symlink_to(tmp_path / "missing.txt")
    (inputs / "c.jsonl").write_text('{"id": "c1", "text": ' + SURROGATE + "}\n{oops\n")
    result = runner.invoke(app, ["link", str(inputs), "--index", str(index), "--model", str(model), "-q"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split("]")[0] for line in lines] == [
        "error: [E078",
        "error: [E070",
        "error: [E004",
        "error: [E060",
    ]
    assert lines[-1].startswith("error: [E060] 3 of 4 documents failed")
    assert all("--skip-bad" not in line for line in lines), "link has no --skip-bad"


def test_link_with_a_damaged_manifest(tmp_path, toy_model):
    model, index = toy_model
    copy = tmp_path / "idx"
    shutil.copytree(index, copy)
    (copy / "manifest.json").write_text("{")
    (tmp_path / "a.txt").write_text("Paris.")
    result = runner.invoke(
        app, ["link", str(tmp_path / "a.txt"), "--index", str(copy), "--model", str(model)]
    )
    one_error(result, "E035", f"{copy}:")


# 14. missing files, directories given as files, numbers out of range


def test_missing_vectors_are_named(index_copy):
    (index_copy / "vectors.f16").unlink()
    message = one_error(runner.invoke(app, ["search", str(index_copy), "Paris"]), "E035")
    assert "vectors.f16 is missing" in message and "-1 bytes" not in message


def test_a_directory_where_a_file_belongs(tmp_path, tiny_model, tiny_index):
    folder = tmp_path / "kb.jsonl"
    folder.mkdir()
    one_error(
        run_index(folder, tmp_path / "idx", tiny_model, "--format", "jsonl"),
        "E017",
        f"{folder}: is a directory",
    )
    one_error(
        run_index(folder, tmp_path / "idx", tiny_model, "--format", "csv"),
        "E017",
        f"{folder}: is a directory",
    )
    result = evaluate_cli(FIXTURES / "docs_toy.jsonl", tiny_index, folder)
    one_error(result, "E079", f"{folder}: is a directory, not a file; give the predictions file itself")
    one_error(runner.invoke(app, ["train", "--recipe", str(folder), "--out", str(tmp_path / "m")]), "E079")


def test_an_unreadable_file(tmp_path, monkeypatch):
    from entqa_kit.core.paths import read_bytes

    path = tmp_path / "f.txt"
    path.write_text("x")

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(EntQAError) as caught:
        read_bytes(path)
    assert (
        caught.value.message
        == f"[E080] {path}: cannot be read (Permission denied); check that it is a readable file"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["index", "kb.jsonl", "--out", "o", "--batch-size", "0"],
        ["index", "kb.jsonl", "--out", "o", "--max-entity-tokens", "-1"],
        ["link", "a.txt", "--index", "i", "--max-chars", "-1"],
        ["link", "a.txt", "--index", "i", "--batch-size", "0"],
        ["link", "a.txt", "--index", "i", "--threshold", "-0.5"],
        ["link", "a.txt", "--index", "i", "--threshold", "2"],
        ["search", "i", "q", "-k", "0"],
        ["evaluate", "d.jsonl", "--index", "i", "--batch-size", "0"],
        ["evaluate", "d.jsonl", "--index", "i", "--top-k", "-3"],
        ["calibrate", "d.jsonl", "--index", "i", "--model", "m", "--floor", "-1"],
    ],
)
def test_numbers_out_of_range_are_usage_errors(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output


def test_an_undecodable_query(tiny_index):
    result = runner.invoke(app, ["search", str(tiny_index), "caf\udce9"])
    one_error(result, "E081", "the query is not valid text")


def test_recipe_that_is_not_utf8(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_bytes(b'name = "caf\xe9"\n')
    one_error(
        runner.invoke(app, ["train", "--recipe", str(recipe), "--out", str(tmp_path / "m")]),
        "E003",
        f"{recipe}:1:",
    )


def test_document_mentions_that_are_not_objects(tmp_path):
    from entqa_kit.documents.jsonl_docs import read_jsonl_documents

    docs = tmp_path / "d.jsonl"
    docs.write_text('{"id": "a", "text": "Paris", "mentions": "Paris"}\n')
    with pytest.raises(EntQAError) as caught:
        read_jsonl_documents(docs)
    assert caught.value.code == "E010" and caught.value.line == 1
