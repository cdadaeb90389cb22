"""More bad input, by class: every case ends in one coded line (exit 1) or a usage error (exit 2),
never a traceback, and a skipped input is counted. The classes are listed in tests/README.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES

runner = CliRunner()
SURROGATE = '"Bad \\ud800 x"'  # valid JSON, but no UTF-8 text: a lone surrogate


def run_index(kb_path, out, model, *extra):
    return runner.invoke(app, ["index", str(kb_path), "--out", str(out), "--model", str(model), "-q", *extra])


def one_error(result, code: str, start: str | None = None) -> str:
    """The single ``error: [code] ...`` line of a failed command (exit 1), checked."""
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"error: [{code}] {start or ''}"), message
    return message


def native(i: int, title: str | None = None) -> str:
    return json.dumps({"id": f"E{i}", "title": title or f"Entity {i}", "description": "d"}) + "\n"


# 1. strings that are valid JSON but not UTF-8 text (lone surrogates), in every adapter and reader

SURROGATE_KBS = {
    "jsonl": native(1) + '{"id": "E2", "title": ' + SURROGATE + "}\n" + native(3),
    "kilt": json.dumps({"_id": "1", "wikipedia_id": "1", "wikipedia_title": "A", "text": ["A\n"]})
    + '\n{"_id": "2", "wikipedia_id": "2", "wikipedia_title": "B", "text": ["B\\n", '
    + SURROGATE
    + "]}\n",
    "umls": json.dumps({"concept_id": "C1", "canonical_name": "A", "aliases": []})
    + '\n{"concept_id": "C2", "canonical_name": "B", "aliases": ['
    + SURROGATE
    + "]}\n",
}


@pytest.mark.parametrize("fmt", sorted(SURROGATE_KBS))
def test_lone_surrogate_in_a_kb_is_a_coded_error_naming_the_line(tmp_path, tiny_model, fmt):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(SURROGATE_KBS[fmt], encoding="utf-8")
    message = one_error(run_index(kb, tmp_path / "idx", tiny_model, "--format", fmt), "E070", f"{kb}:2:")
    assert "lone surrogate \\ud800" in message and "pass --skip-bad" in message


@pytest.mark.parametrize("fmt", sorted(SURROGATE_KBS))
def test_lone_surrogate_is_skipped_and_counted_with_skip_bad(tmp_path, tiny_model, fmt):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(SURROGATE_KBS[fmt], encoding="utf-8")
    out = tmp_path / "idx"
    result = run_index(kb, out, tiny_model, "--format", fmt, "--skip-bad", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["skipped_rows"] == 1
    rows = [json.loads(line) for line in (out / "skipped_rows.jsonl").read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in rows] == [(2, "E070")]


def test_surrogate_detection_names_the_field():
    from entqa_kit.io.jsonl import unencodable

    assert unencodable(json.loads('{"id": "x", "mentions": [{"entity": ' + SURROGATE + "}]}")) == (
        "lone surrogate \\ud800 in field 'mentions'"
    )
    assert unencodable({"id": "x", "title": "fine é 東京 😀"}) is None


def test_encoded_surrogate_bytes_in_a_csv_are_not_utf8(tmp_path, tiny_model):
    kb = tmp_path / "kb.csv"
    kb.write_bytes(b"id,title\nA,Alpha\nB,Bad \xed\xa0\x80 x\n")
    one_error(run_index(kb, tmp_path / "idx", tiny_model), "E003", f"{kb}:3:")


def test_lone_surrogate_in_labelled_documents(tmp_path, tiny_index):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "d1", "text": "Paris."}\n{"id": "d2", "text": ' + SURROGATE + "}\n")
    preds = tmp_path / "pred.jsonl"
    preds.write_text('{"id": "d1", "mentions": []}\n')
    result = runner.invoke(
        app, ["evaluate", str(docs), "--index", str(tiny_index), "--predictions", str(preds)]
    )
    message = one_error(result, "E070", f"{docs}:2:")
    assert "--skip-bad" not in message  # evaluate has no such option


def test_lone_surrogate_in_predictions(tmp_path, tiny_index):
    docs = tmp_path / "docs.jsonl"
    docs.write_text(
        json.dumps({"id": "d1", "text": "Paris.", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]})
    )
    preds = tmp_path / "pred.jsonl"
    preds.write_text(
        '{"id": "d1", "mentions": [{"start": 0, "end": 5, "text": ' + SURROGATE + ', "entity": "Q1"}]}\n'
    )
    result = runner.invoke(
        app, ["evaluate", str(docs), "--index", str(tiny_index), "--predictions", str(preds)]
    )
    one_error(result, "E070", f"{preds}:1:")


def test_lone_surrogate_in_a_document_to_link_is_one_failure(tmp_path):
    from entqa_kit.documents.link_inputs import InputFailure, iter_inputs

    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "text": ' + SURROGATE + '}\n{"id": "b", "text": "Fine."}\n')
    items = list(iter_inputs([str(docs)]))
    assert len(items) == 2
    assert isinstance(items[0], InputFailure) and items[0].error.code == "E070"
    assert items[0].error.line == 1 and items[1].id == "b"


# 2. a CSV quote that is never closed swallows the rows after it


def test_unclosed_csv_quote_names_the_line_it_opened_on(tmp_path, tiny_model):
    kb = tmp_path / "kb.csv"
    kb.write_text('id,title,description\nE1,Paris,"Capital of France\nE2,Rome,x\nE3,Oslo,y\n')
    for extra in ((), ("--skip-bad",)):
        message = one_error(run_index(kb, tmp_path / "idx", tiny_model, *extra), "E071", f"{kb}:2:")
        assert "the 2 lines after it" in message


def test_a_closed_multiline_csv_cell_is_still_read(tmp_path, tiny_model):
    kb = tmp_path / "kb.csv"
    kb.write_text('id,title,description\nE1,Paris,"Capital\nof ""France"""\nE2,Rome,x\n')
    result = run_index(kb, tmp_path / "idx", tiny_model, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 2


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
    docs = tmp_path / "docs.jsonl"
    docs.write_text(
        json.dumps({"id": "d1", "text": "Paris.", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]})
    )
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


# 5. damaged state files: manifest, model config, build progress, training state


@pytest.fixture
def index_copy(tmp_path, tiny_index) -> Path:
    copy = tmp_path / "idx"
    shutil.copytree(tiny_index, copy)
    return copy


@pytest.mark.parametrize("content", ["", "{not json", '{"dim": 32}'])
def test_damaged_manifest_in_search(tmp_path, index_copy, content):
    (index_copy / "manifest.json").write_text(content)
    message = one_error(runner.invoke(app, ["search", str(index_copy), "Paris"]), "E035", f"{index_copy}:")
    assert "manifest.json is unreadable" in message and "--overwrite" in message


def test_damaged_manifest_in_index_and_overwrite_recovers(tmp_path, tiny_model):
    out = tmp_path / "idx"
    kb = FIXTURES / "kb_native.jsonl"
    assert run_index(kb, out, tiny_model).exit_code == 0
    (out / "manifest.json").write_text("")
    one_error(run_index(kb, out, tiny_model), "E035", f"{out}:")
    result = run_index(kb, out, tiny_model, "--overwrite")
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["search", str(out), "Paris"]).exit_code == 0


def test_damaged_kb_store(index_copy):
    (index_copy / "kb.sqlite").write_bytes(b"not a database at all" * 100)
    message = one_error(runner.invoke(app, ["search", str(index_copy), "Paris"]), "E035")
    assert "kb.sqlite" in message


def test_damaged_model_config(tmp_path, tiny_model):
    model = tmp_path / "model"
    model.mkdir()
    (model / "entqa_config.json").write_text('{"format_version": 1, "vers')
    config = model / "entqa_config.json"
    result = run_index(FIXTURES / "kb_native.jsonl", tmp_path / "idx", model)
    message = one_error(result, "E074", f"{config}: the model configuration is damaged")
    assert "Invalid JSON" in message


def test_damaged_build_progress_restarts_the_build(tmp_path, tiny_encoder):
    from entqa_kit.index.build import build_index

    out = tmp_path / "idx"
    kb = FIXTURES / "kb_native.jsonl"
    calls = []

    def stop(shard):
        calls.append(shard)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(kb, out, encoder=tiny_encoder, quiet=True, on_shard=stop)
    (out / "progress.json").write_text("{trunc")
    result = build_index(kb, out, encoder=tiny_encoder, quiet=True)
    assert calls == [0] and result.resumed_from == 0 and result.count == 20


def test_damaged_training_checkpoint(tmp_path):
    import torch

    from entqa_kit.training.checkpoint import LAST, load_checkpoint, save_checkpoint

    module = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    final = save_checkpoint(tmp_path, {"m": module}, optimizer, {"epochs_done": 1})
    (final / "state.json").write_text("{")
    with pytest.raises(EntQAError) as caught:
        load_checkpoint(tmp_path, {"m": module}, optimizer)
    assert caught.value.code == "E075" and str(tmp_path / LAST) in caught.value.message


def test_damaged_sentence_transformers_modules_file(tmp_path, tiny_model):
    model = tmp_path / "enc"
    shutil.copytree(tiny_model, model)
    (model / "modules.json").write_text("[{")
    one_error(run_index(FIXTURES / "kb_native.jsonl", tmp_path / "idx", model), "E021")


# 6. text from a KB, a document or a query is shown literally

NASTY = {
    "M1": "[/x] closes nothing",
    "M2": "[bold red]Jaguar[/]",
    "M3": "clear \x1b[2J screen",
    "M4": "title \x1b]0;pwn\x07 set",
}


def test_literal_escapes_markup_and_shows_control_characters():
    from entqa_kit.core.display import literal, visible

    assert literal("[bold red]Jaguar[/]") == "\\[bold red]Jaguar\\[/]"
    assert visible("a\x1b]0;pwn\x07\nb\u202e") == "a\\x1b]0;pwn\\x07\\nb\\u202e"
    assert (
        EntQAError("E061", source="s", doc_id="x\x1b[2J").message
        == "[E061] s: document 'x\\x1b[2J' is empty; nothing to link"
    )
    assert "\x1b" not in EntQAError("E013", path="k\x1b.csv", column="c", header="h", option="o").message


@pytest.fixture(scope="module")
def nasty_index(tmp_path_factory, tiny_encoder) -> Path:
    from entqa_kit.index.build import build_index

    tmp = tmp_path_factory.mktemp("nasty")
    kb = tmp / "kb.jsonl"
    kb.write_text("".join(json.dumps({"id": i, "title": t}) + "\n" for i, t in NASTY.items()))
    build_index(kb, tmp / "idx", encoder=tiny_encoder, quiet=True)
    return tmp / "idx"


@pytest.mark.parametrize("query", ["Jaguar", "[/x]", "[bold]q[/bold] \x1b[2J"])
def test_search_shows_titles_and_query_literally(nasty_index, query):
    result = runner.invoke(app, ["search", str(nasty_index), query, "-k", "4"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    for title in ("[/x] closes nothing", "[bold red]Jaguar[/]", "clear \\x1b[2J screen", "\\x1b]0;pwn\\x07"):
        assert title in result.output


def test_document_summary_shows_ids_and_mentions_literally(capsys):
    from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan
    from entqa_kit.io.predictions import print_document_summary

    document = Document(id="[/x]\x1b[2J", text="[bold]Jaguar[/bold] runs")
    span = LinkedSpan(start=0, end=19, text="[bold]Jaguar[/bold]", entity="M2", title="[red]J[/]", score=0.5)
    print_document_summary(document, LinkedDocument(id=document.id, mentions=[span]))
    shown = capsys.readouterr().out
    assert "[/x]\\x1b[2J" in shown and "[bold]Jaguar[/bold]" in shown and "[red]J[/] (M2)" in shown
    assert "\x1b" not in shown


def test_evaluate_table_shows_the_file_name_literally(tmp_path, tiny_index):
    docs = tmp_path / "[bold red]docs.jsonl"
    docs.write_text(
        json.dumps({"id": "d1", "text": "Paris.", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]})
    )
    preds = tmp_path / "pred.jsonl"
    preds.write_text('{"id": "d1", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]}\n')
    result = runner.invoke(
        app, ["evaluate", str(docs), "--index", str(tiny_index), "--predictions", str(preds)]
    )
    assert result.exit_code == 0, result.output
    assert "[bold red]docs.jsonl" in result.stdout


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


# 10. a UTF-8 byte-order mark at the start of a file

BOM = "\ufeff"


@pytest.mark.parametrize(
    "name, content",
    [
        ("kb.csv", "id,title\nE1,Paris\nE2,Rome\n"),
        ("kb.tsv", "id\ttitle\nE1\tParis\nE2\tRome\n"),
        ("kb.jsonl", native(1) + native(2)),
    ],
)
def test_a_bom_is_ignored_in_kb_files(tmp_path, tiny_model, name, content):
    kb = tmp_path / name
    kb.write_text(BOM + content, encoding="utf-8")
    result = run_index(kb, tmp_path / "idx", tiny_model, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 2


@pytest.mark.parametrize(
    "fixture, fmt",
    [("docs_toy.jsonl", "jsonl"), ("aida_mini.tsv", "aida"), ("pubtator_mini.txt", "pubtator")],
)
def test_a_bom_is_ignored_in_document_files(tmp_path, fixture, fmt):
    from entqa_kit.documents import load_documents

    plain = load_documents(FIXTURES / fixture, None, fmt)
    copy = tmp_path / fixture
    copy.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / fixture).read_bytes())
    with_bom = load_documents(copy, None, fmt)
    assert with_bom.documents and with_bom.documents == plain.documents


def test_a_bom_is_ignored_in_documents_to_link(tmp_path):
    from entqa_kit.documents.link_inputs import iter_inputs

    (tmp_path / "a.txt").write_text(BOM + "Paris.", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(BOM + '{"id": "b", "text": "Rome."}\n', encoding="utf-8")
    texts = [d.text for d in iter_inputs([str(tmp_path)])]
    assert texts == ["Paris.", "Rome."]


@pytest.mark.parametrize(
    "fmt, content",
    [("aida", b"-DOCSTART- (1 EU)\nEU\tB\tEU\t--NME--\ncaf\xe9\n"), ("pubtator", b"1|t|caf\xe9\n")],
)
def test_non_utf8_aida_and_pubtator(tmp_path, fmt, content):
    from entqa_kit.documents import load_documents

    path = tmp_path / "docs.txt"
    path.write_bytes(content)
    with pytest.raises(EntQAError) as caught:
        load_documents(path, None, fmt)
    assert caught.value.code == "E003" and caught.value.line == (3 if fmt == "aida" else 1)


# 11-12. half-built indexes and the skipped-rows sidecar


def test_search_on_a_half_built_index_says_resume(tmp_path, tiny_encoder):
    from entqa_kit.index.build import build_index

    out = tmp_path / "idx"

    def stop(shard):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(FIXTURES / "kb_native.jsonl", out, encoder=tiny_encoder, quiet=True, on_shard=stop)
    message = one_error(runner.invoke(app, ["search", str(out), "Paris"]), "E032", f"{out}:")
    assert "entities encoded" in message and "rerun the same 'entqa-kit index' command" in message


def test_clean_overwrite_removes_an_old_sidecar(tmp_path, tiny_model):
    out = tmp_path / "idx"
    kb = tmp_path / "kb.jsonl"
    kb.write_text(native(1) + "{bad\n" + native(3))
    assert run_index(kb, out, tiny_model, "--skip-bad").exit_code == 0
    assert (out / "skipped_rows.jsonl").is_file()
    kb.write_text(native(1) + native(2) + native(3))
    result = run_index(kb, out, tiny_model, "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (out / "skipped_rows.jsonl").exists()


def test_a_refused_skip_bad_run_leaves_the_other_index_alone(tmp_path, tiny_model):
    out = tmp_path / "idx"
    assert run_index(FIXTURES / "kb_native.jsonl", out, tiny_model).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    kb = tmp_path / "kb.jsonl"
    kb.write_text(native(1) + "{bad\n")
    one_error(run_index(kb, out, tiny_model, "--skip-bad"), "E036", f"{out}:")
    kb.write_text("{bad\n{worse\n")
    one_error(run_index(kb, out, tiny_model, "--skip-bad"), "E111", f"{kb}:")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# 13. the "--skip-bad" hint only where the command has the option


def test_skip_bad_hint_only_for_commands_that_have_it(tmp_path, tiny_model, tiny_index):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(native(1) + "{bad\n")
    assert "or pass --skip-bad" in one_error(run_index(kb, tmp_path / "idx", tiny_model), "E004")
    preds = tmp_path / "pred.jsonl"
    preds.write_text("{bad\n")
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(FIXTURES / "docs_toy.jsonl"),
            "--index",
            str(tiny_index),
            "--predictions",
            str(preds),
        ],
    )
    message = one_error(result, "E004", f"{preds}:1:")
    assert message.endswith("fix the line")


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
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(FIXTURES / "docs_toy.jsonl"),
            "--index",
            str(tiny_index),
            "--predictions",
            str(folder),
        ],
    )
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


# 15. a KB adapter plug-in that fails to load


def test_a_broken_plugin_is_e016_and_the_built_ins_still_work(monkeypatch, tmp_path):
    from importlib.metadata import EntryPoint

    from entqa_kit.kb import registry

    real = registry.entry_points

    class Broken(EntryPoint):
        def load(self):
            raise ImportError("No module named 'entqa_owl'")

    broken = Broken(name="owl", value="entqa_owl:OwlAdapter", group=registry.ENTRY_POINT_GROUP)

    def with_broken(group):
        return [*real(group=group), broken]

    monkeypatch.setattr(registry, "entry_points", with_broken)
    registry.available_adapters.cache_clear()
    try:
        assert {"jsonl", "kilt", "umls", "csv"} <= set(registry.available_adapters())
        assert registry.get_adapter(FIXTURES / "kb_native.jsonl").name == "jsonl"
        with pytest.raises(EntQAError) as caught:
            registry.get_adapter(tmp_path / "kb.owl", "owl")
        assert caught.value.message.startswith(
            "[E016] KB adapter plug-in 'owl' (entqa_owl:OwlAdapter) failed to load "
            "(ImportError: No module named 'entqa_owl')"
        )
    finally:
        monkeypatch.undo()
        registry.available_adapters.cache_clear()


# calibrate and train share the readers above; their own entry points


def test_calibrate_with_a_damaged_model_config(tmp_path, tiny_index):
    model = tmp_path / "model"
    model.mkdir()
    (model / "entqa_config.json").write_text("")
    docs = FIXTURES / "docs_toy.jsonl"
    result = runner.invoke(app, ["calibrate", str(docs), "--index", str(tiny_index), "--model", str(model)])
    one_error(result, "E074", f"{model / 'entqa_config.json'}: the model configuration is damaged")


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


def test_a_recipe_with_a_bom_loads(tmp_path, tiny_model, write_recipe):
    from entqa_kit.training.recipes import load_recipe

    recipe = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    recipe.write_bytes(b"\xef\xbb\xbf" + recipe.read_bytes())
    assert load_recipe(recipe).data.kb.endswith("kb_native.jsonl")
