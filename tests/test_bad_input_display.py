"""Text from a KB, a document or a query is shown literally: no markup, no terminal control.

Part of the bad-input classes listed in tests/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from tests.conftest import evaluate_cli, paris_document

runner = CliRunner()


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
    docs = paris_document(tmp_path / "[bold red]docs.jsonl")
    preds = tmp_path / "pred.jsonl"
    preds.write_text('{"id": "d1", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]}\n')
    result = evaluate_cli(docs, tiny_index, preds)
    assert result.exit_code == 0, result.output
    assert "[bold red]docs.jsonl" in result.stdout
