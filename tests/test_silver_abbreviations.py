"""Silver mentions of abbreviations, and labelled passages repeated among silver ones."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from entqa_kit.adaptation.adapt import MAX_LABELLED_REPEAT, labelled_repeat
from entqa_kit.adaptation.silver import SilverOptions, make_silver
from entqa_kit.cli.main import app
from entqa_kit.core.config import SilverConfig
from entqa_kit.core.records import Document, Mention, Passage
from entqa_kit.documents.silver_abbreviations import with_abbreviations
from entqa_kit.documents.unlabelled import SILVER_LABEL, silver_documents
from entqa_kit.index.kb_source import open_kb
from entqa_kit.kb.name_matcher import NameMatch, NameMatcher
from entqa_kit.training.labelled_repeat import repeat_labelled

KB = Path(__file__).parent / "fixtures" / "kb_native.jsonl"
TEXT = "Women with breast cancer (BC) were seen. BC recurs, BCX does not; abc BC."
runner = CliRunner()


def spans(text: str, matches) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.entity_id) for m in matches]


def test_short_forms_after_a_matched_long_form_get_its_entity():
    with open_kb(KB) as opened:
        matches = NameMatcher.from_kb(opened.kb).find(TEXT)
    assert spans(TEXT, matches) == [("breast cancer", "Q8")]
    found = with_abbreviations(TEXT, matches)
    assert spans(TEXT, found) == [("breast cancer", "Q8"), ("BC", "Q8"), ("BC", "Q8"), ("BC", "Q8")]
    assert [m.start for m in found] == sorted(m.start for m in found)
    assert found[1].row == matches[0].row and found[1].name == "BC"


def test_no_definition_or_an_unmatched_long_form_adds_nothing():
    match = NameMatch(0, 13, "Q8", "Breast cancer", 7)
    assert with_abbreviations("Breast cancer. BC is here.", [match]) == [match]
    text = "Cancer of the breast (BC) and then BC."
    assert with_abbreviations(text, []) == []


def test_silver_cli_marks_short_forms_with_abbreviations_and_counts_them(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "d", "text": TEXT}) + "\n", encoding="utf-8")
    out = tmp_path / "silver.jsonl"
    base = ["silver", str(KB), str(docs), "--out", str(out), "--json", "-q"]
    plain = runner.invoke(app, base)
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["mentions"] == 1
    result = runner.invoke(app, [*base, "--abbreviations"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["mentions"], summary["abbreviation_mentions"]) == (4, 3)
    record = json.loads(out.read_text(encoding="utf-8"))
    assert [TEXT[m["start"] : m["end"]] for m in record["mentions"]] == ["breast cancer", "BC", "BC", "BC"]
    shown = runner.invoke(app, ["silver", str(KB), str(docs), "--out", str(out), "--abbreviations"])
    assert "short forms" in shown.stderr


def test_recipe_silver_matching_takes_abbreviations(tmp_path):
    docs = tmp_path / "docs.txt"
    docs.write_text(TEXT + "\n", encoding="utf-8")
    with open_kb(KB) as opened:
        plain = silver_documents(docs, opened.kb, SilverConfig(source="match")).documents
        marked = silver_documents(docs, opened.kb, SilverConfig(source="match", abbreviations=True)).documents
    assert len(plain[0].mentions) == 1
    assert [TEXT[m.start : m.end] for m in marked[0].mentions] == ["breast cancer", "BC", "BC", "BC"]
    assert all(m.label == SILVER_LABEL and m.entities == ("Q8",) for m in marked[0].mentions)


def test_make_silver_option_matches_the_cli(tmp_path):
    docs = tmp_path / "docs.txt"
    docs.write_text(TEXT + "\n", encoding="utf-8")
    result = make_silver(KB, docs, tmp_path / "s.jsonl", SilverOptions(abbreviations=True), quiet=True)
    assert (result.mentions, result.abbreviation_mentions) == (4, 3)
    assert result.as_json()["abbreviation_mentions"] == 3


def _passage(document_id: str, index: int) -> Passage:
    return Passage(document_id=document_id, index=index, token_ids=(1,), offsets=((0, 1),))


def test_labelled_passages_repeat_and_silver_ones_do_not():
    gold = Mention(start=0, end=1, entities=("Q1",))
    silver = Mention(start=0, end=1, entities=("Q1",), label=SILVER_LABEL)
    documents = {
        "g": Document(id="g", text="x", mentions=(gold,)),
        "s": Document(id="s", text="x", mentions=(silver,)),
    }
    passages = [_passage("g", 0), _passage("s", 0), _passage("g", 1)]
    repeated = repeat_labelled(passages, documents, 3)
    assert [(p.document_id, p.index) for p in repeated] == [("g", 0)] * 3 + [("s", 0)] + [("g", 1)] * 3
    assert repeat_labelled(passages, documents, 1) == passages


def test_adapt_repeats_labelled_documents_about_as_often_as_there_are_silver_ones(tmp_path):
    labelled = tmp_path / "few.jsonl"
    labelled.write_text("".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(4)))
    assert labelled_repeat(None, 100) == 1
    assert labelled_repeat(labelled, 0) == 1
    assert labelled_repeat(labelled, 2) == 1
    assert labelled_repeat(labelled, 30) == 8
    assert labelled_repeat(labelled, 10_000) == MAX_LABELLED_REPEAT


def test_the_adapt_summary_counts_short_forms(tmp_path):
    from entqa_kit.adaptation.adapt import AdaptResult

    silver = {"mentions": 5605, "entities": 545, "documents": 693, "abbreviation_mentions": 380}
    result = AdaptResult(
        model_dir=tmp_path,
        index_dir=tmp_path / "index",
        recipe=tmp_path / "recipe.toml",
        index_reused=True,
        silver=silver,
        training={},
        threshold=0.5,
        threshold_source="kept",
        calibration=None,
        seconds={"silver": 120.0},
    )
    rows = dict((step, (text, minutes)) for step, text, minutes in result.summary_rows())
    assert rows["silver"] == ("5,605 mentions of 545 entities in 693 documents (380 short forms)", 2.0)
