"""Silver mentions: `make_silver`, the `silver` command, and scoring a silver file as predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entqa_kit.adaptation.silver import SilverOptions, make_silver
from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from entqa_kit.documents.jsonl_docs import read_jsonl_documents
from entqa_kit.index.kb_source import open_kb
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.read_options import ReadOptions
from entqa_kit.kb.name_matcher import MatcherOptions
from entqa_kit.kb.registry import get_adapter
from entqa_kit.kb.store import KnowledgeBase

FIXTURES = Path(__file__).parent / "fixtures"
KB = FIXTURES / "kb_native.jsonl"
runner = CliRunner()

DOCS = [
    {"id": "a", "text": "Breast cancer in Paris.", "mentions": [{"start": 17, "end": 22, "entity": "Q5"}]},
    {"id": "b", "text": "🧬 Zürich, not Zurichsee; Paris Hilton and cystic fibrosis."},
    {"id": "c", "text": "Nothing to see."},
]


def write_docs(path: Path, docs: list[dict], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(d, ensure_ascii=False) for d in docs] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def found(path: Path) -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r["id"], r["text"][m["start"] : m["end"]], m["entity"]) for r in rows for m in r["mentions"]]


EXPECTED = [
    ("a", "Breast cancer", "Q8"),
    ("a", "Paris", "Q1"),
    ("b", "Zürich", "Q17"),
    ("b", "Paris Hilton", "Q5"),
    ("b", "cystic fibrosis", "Q20"),
]


def test_silver_from_jsonl_ignores_gold_and_round_trips_through_the_document_reader(tmp_path):
    docs = write_docs(tmp_path / "docs.jsonl", DOCS)
    out = tmp_path / "out" / "silver.jsonl"
    result = make_silver(KB, docs, out, quiet=True)
    assert found(out) == EXPECTED
    assert (result.documents, result.mentions, result.entities) == (3, 5, 5)
    assert result.skipped == [] and result.sidecar is None and result.kb_source == "jsonl"
    with open_kb(KB) as opened:
        reread = read_jsonl_documents(out, opened.kb)
    assert [d.id for d in reread.documents] == ["a", "b", "c"]
    assert reread.num_mentions == 5 and reread.num_in_kb == 5
    assert reread.documents[1].text == DOCS[1]["text"]


def test_silver_from_pubtator_and_from_a_txt_directory(tmp_path):
    out = tmp_path / "pubtator.silver.jsonl"
    make_silver(KB, FIXTURES / "pubtator_mini.txt", out, SilverOptions(docs_format="pubtator"), quiet=True)
    hits = found(out)
    assert hits[:3] == [
        ("100", "Breast cancer", "Q8"),
        ("100", "cystic fibrosis", "Q20"),
        ("100", "breast cancer", "Q8"),
    ]
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "one.txt").write_text("Asthma and diabetes mellitus.", encoding="utf-8")
    (folder / "two.txt").write_text("Tokyo, 東京.", encoding="utf-8")
    result = make_silver(KB, folder, tmp_path / "txt.silver.jsonl", quiet=True)
    assert result.documents == 2
    assert found(tmp_path / "txt.silver.jsonl") == [
        ("one.txt", "Asthma", "Q10"),
        ("one.txt", "diabetes mellitus", "Q9"),
        ("two.txt", "Tokyo", "Q19"),
    ]
    assert result.report.dropped["too_short"] == 1  # 東京: two characters
    options = SilverOptions(matcher=MatcherOptions(min_chars=2))
    make_silver(KB, folder, tmp_path / "txt.silver.jsonl", options, quiet=True)
    assert found(tmp_path / "txt.silver.jsonl")[-1] == ("two.txt", "東京", "Q19")


def test_silver_reads_the_kb_of_an_index_directory(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    adapter = get_adapter(KB)
    bad = BadRowLog(False)
    KnowledgeBase.build(adapter.read(KB, ReadOptions(), bad), index / "kb.sqlite", KB, bad).close()
    result = make_silver(index, write_docs(tmp_path / "d.jsonl", DOCS), tmp_path / "s.jsonl", quiet=True)
    assert result.kb_source == "index" and found(tmp_path / "s.jsonl") == EXPECTED
    with pytest.raises(EntQAError) as caught:
        make_silver(tmp_path, tmp_path / "d.jsonl", tmp_path / "s2.jsonl", quiet=True)
    assert caught.value.message == (
        f"[E110] {tmp_path}: is a directory but not an index (no kb.sqlite); "
        "give a KB file or an index directory"
    )


def test_no_names_left_is_a_coded_error(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "X", "title": "ab"}\n{"id": "Y", "title": "The"}\n', encoding="utf-8")
    docs = write_docs(tmp_path / "d.jsonl", DOCS)
    with pytest.raises(EntQAError) as caught:
        make_silver(kb, docs, tmp_path / "s.jsonl", quiet=True)
    assert caught.value.message == (
        f"[E112] {kb}: no KB names left to match after the filters (too_short 1, stop_word 1); "
        "lower --min-chars, pass --ambiguous all or check the KB's titles and aliases"
    )
    assert not (tmp_path / "s.jsonl").exists()


def test_cli_prints_a_summary_and_json(tmp_path):
    docs = write_docs(tmp_path / "docs.jsonl", DOCS)
    out = tmp_path / "silver.jsonl"
    result = runner.invoke(app, ["silver", str(KB), str(docs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Silver mentions in" in result.stderr and "distinct entities" in result.stderr
    assert "Matching names" in result.stderr
    assert result.stdout == ""
    assert found(out) == EXPECTED
    result = runner.invoke(app, ["silver", str(KB), str(docs), "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    assert summary["documents"] == 3 and summary["mentions"] == 5 and summary["entities"] == 5
    assert summary["skipped"] == 0 and summary["frequent"] == {}
    assert set(summary["names"]["dropped"]) == {"too_short", "stop_word", "ambiguous", "frequent"}


def test_cli_options_reach_the_matcher(tmp_path):
    docs = write_docs(tmp_path / "docs.jsonl", DOCS)
    out = tmp_path / "silver.jsonl"
    args = ["silver", str(KB), str(docs), "--out", str(out), "--json", "-q"]
    result = runner.invoke(app, [*args, "--min-chars", "7"])
    assert result.exit_code == 0, result.output
    assert found(out) == [e for e in EXPECTED if len(e[1]) >= 7]
    stop = tmp_path / "stop.txt"
    stop.write_text("paris\n\nBreast  Cancer\n", encoding="utf-8")
    result = runner.invoke(app, [*args, "--stop-words", str(stop)])
    assert json.loads(result.stdout)["names"]["dropped"]["stop_word"] == 2
    assert [e for e in found(out) if e[0] == "a"] == []


def test_cli_bad_values_and_missing_files_exit_1(tmp_path):
    docs = write_docs(tmp_path / "docs.jsonl", DOCS)
    base = ["silver", str(KB), str(docs), "--out", str(tmp_path / "s.jsonl"), "-q"]
    result = runner.invoke(app, [*base, "--ambiguous", "first"])
    assert result.exit_code == 1
    assert (
        result.output
        == "error: [E041] ambiguous must be 'canonical' or 'skip' or 'all', got 'first'; fix the value\n"
    )
    result = runner.invoke(app, [*base, "--max-doc-share", "0"])
    assert result.exit_code == 1
    assert result.output.startswith("error: [E041] max_doc_share must be a share in (0, 1], got 0.0")
    missing = tmp_path / "missing.jsonl"
    result = runner.invoke(app, ["silver", str(KB), str(missing), "--out", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 1
    assert result.output == f"error: [E001] {missing}: file not found; check the path\n"
    result = runner.invoke(app, ["silver", str(KB), str(docs)])
    assert result.exit_code == 2


def test_bad_lines_stop_the_run_or_are_skipped_counted_and_listed(tmp_path):
    docs = write_docs(tmp_path / "docs.jsonl", DOCS, ('{"id": "broken", "text": ', '{"id": "no-text"}'))
    out = tmp_path / "silver.jsonl"
    result = runner.invoke(app, ["silver", str(KB), str(docs), "--out", str(out), "-q"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E004] {docs}:4: malformed JSON")
    assert not out.exists()
    result = runner.invoke(app, ["silver", str(KB), str(docs), "--out", str(out), "--skip-bad", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["documents"] == 3 and summary["skipped"] == 2
    sidecar = tmp_path / "silver.skipped.jsonl"
    assert summary["skipped_sidecar"] == str(sidecar)
    listed = [json.loads(line) for line in sidecar.read_text(encoding="utf-8").splitlines()]
    assert [(row["line"], row["code"]) for row in listed] == [(4, "E004"), (5, "E050")]
    assert "Skipped 2 bad inputs" in result.stderr
    assert found(out) == EXPECTED


def test_all_documents_bad_is_a_coded_error(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": 1}\n', encoding="utf-8")
    result = runner.invoke(
        app, ["silver", str(KB), str(docs), "--out", str(tmp_path / "s.jsonl"), "--skip-bad"]
    )
    assert result.exit_code == 1
    sidecar = tmp_path / "s.skipped.jsonl"
    assert result.output == f"error: [E113] {docs}: no usable documents (1 skipped as bad); see {sidecar}\n"


def test_evaluate_scores_a_silver_file_as_predictions(tmp_path):
    gold = write_docs(
        tmp_path / "gold.jsonl",
        [
            {
                "id": "a",
                "text": "Breast cancer in Paris.",
                "mentions": [
                    {"start": 0, "end": 13, "entity": "Q8"},
                    {"start": 17, "end": 22, "entity": "Q5"},
                ],
            },
            {
                "id": "b",
                "text": "Paris Hilton and asthma.",
                "mentions": [
                    {"start": 0, "end": 12, "entity": "Q5"},
                    {"start": 17, "end": 23, "entity": "Q10"},
                ],
            },
        ],
    )
    silver = tmp_path / "silver.jsonl"
    result = runner.invoke(app, ["silver", str(KB), str(gold), "--out", str(silver), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["evaluate", str(gold), "--index", str(KB), "--predictions", str(silver), "--json", "-q"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    # predicted: Breast cancer/Q8 (right), Paris/Q1 (wrong entity), Paris Hilton/Q5, asthma/Q10 (right)
    assert (scores["num_gold"], scores["num_pred"]) == (4, 4)
    assert (scores["precision"], scores["recall"], scores["f1"], scores["md_f1"]) == (75.0, 75.0, 75.0, 100.0)


def test_bad_kb_rows_stop_the_run_or_are_skipped_and_counted(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "Q8", "title": "Breast cancer"}\n{"id": "Q9"}\n', encoding="utf-8")
    docs = write_docs(tmp_path / "docs.jsonl", DOCS)
    out = tmp_path / "silver.jsonl"
    result = runner.invoke(app, ["silver", str(kb), str(docs), "--out", str(out), "-q"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E006] {kb}:2: record has no title")
    result = runner.invoke(app, ["silver", str(kb), str(docs), "--out", str(out), "--skip-bad", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kb_skipped_rows"] == 1
    assert "skipped bad KB rows" in result.stderr
    assert found(out) == [("a", "Breast cancer", "Q8")]
    kb.write_text('{"id": "Q9"}\n', encoding="utf-8")
    args = ["silver", str(kb), str(docs), "--out", str(out), "--kb-format", "jsonl", "--skip-bad", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E111] {kb}: no usable entities (1 rows skipped as bad); rerun without --skip-bad "
        "to see the first bad row\n"
    )
