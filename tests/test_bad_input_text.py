"""Bad text in inputs: lone surrogates in every adapter and reader, an unclosed CSV quote,
a byte-order mark. Every case ends in one coded line (exit 1), or is skipped and counted.

Part of the bad-input classes listed in tests/README.md."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES, SURROGATE, native, one_error, run_index

runner = CliRunner()


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


def test_a_recipe_with_a_bom_loads(tmp_path, tiny_model, write_recipe):
    from entqa_kit.training.recipes import load_recipe

    recipe = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    recipe.write_bytes(b"\xef\xbb\xbf" + recipe.read_bytes())
    assert load_recipe(recipe).data.kb.endswith("kb_native.jsonl")
