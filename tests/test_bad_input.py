"""Every bad-input case: exit code 1, one coded line naming the file and the line."""

import json

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from tests.conftest import run_index

runner = CliRunner()


def good(i):
    return json.dumps({"id": f"E{i}", "title": f"Entity {i}", "description": "d"}) + "\n"


CASES = {
    "malformed_json": (good(1) + "{not json}\n" + good(3), "E004", 2),
    "truncated_last_line": (good(1) + good(2) + '{"id": "E3", "tit', "E005", 3),
    "missing_title": (good(1) + good(2) + json.dumps({"id": "E3", "description": "x"}) + "\n", "E006", 3),
    "missing_id": (json.dumps({"title": "T"}) + "\n" + good(2), "E008", 1),
    "duplicate_id": (good(1) + good(2) + good(1), "E007", 3),
    "not_an_object": (good(1) + "[1, 2]\n", "E009", 2),
    "wrong_type": (good(1) + json.dumps({"id": "E2", "title": "T", "aliases": "a"}) + "\n", "E010", 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_line_fails_with_code_and_line(tmp_path, tiny_model, case):
    content, code, line = CASES[case]
    kb = tmp_path / "kb.jsonl"
    kb.write_text(content, encoding="utf-8")
    result = run_index(kb, tmp_path / "idx", tiny_model)
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith(f"error: [{code}] {kb}:{line}:"), message
    assert len(message.splitlines()) == 1
    if case == "duplicate_id":
        assert "'E1'" in message and "first seen on line 1" in message


def test_non_utf8_bytes(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_bytes(good(1).encode() + b'{"id": "E2", "title": "caf\xe9"}\n')
    result = run_index(kb, tmp_path / "idx", tiny_model)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E003] {kb}:2: not valid UTF-8")


def test_empty_file(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_text("")
    result = run_index(kb, tmp_path / "idx", tiny_model)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E002] {kb}: the file is empty")


def test_blank_only_file_is_empty(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_text("\n\n")
    result = run_index(kb, tmp_path / "idx", tiny_model)
    assert result.exit_code == 1 and "[E002]" in result.output


def test_missing_file(tmp_path, tiny_model):
    result = run_index(tmp_path / "nope.jsonl", tmp_path / "idx", tiny_model)
    assert result.exit_code == 1 and "[E001]" in result.output


def test_unknown_format(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(good(1))
    result = run_index(kb, tmp_path / "idx", tiny_model, "--format", "owl")
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E011] {kb}: unknown KB format 'owl'")


def test_unknown_model_path(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(good(1))
    result = run_index(kb, tmp_path / "idx", tmp_path / "no-such-model")
    assert result.exit_code == 1
    assert result.output.startswith("error: [E020] model")


def test_directory_that_is_not_a_model(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(good(1))
    (tmp_path / "empty-model").mkdir()
    result = run_index(kb, tmp_path / "idx", tmp_path / "empty-model")
    assert result.exit_code == 1
    assert result.output.startswith("error: [E021]")


def test_bad_config_value_is_one_readable_error(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(good(1))
    result = run_index(kb, tmp_path / "idx", tiny_model, "--index-type", "annoy")
    assert result.exit_code == 1
    assert result.output.startswith("error: [E040] invalid configuration: IndexConfig.index_type")


def test_skip_bad_counts_reports_and_writes_sidecar(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    content = (
        good(1)
        + "{oops\n"
        + json.dumps({"id": "E3"})
        + "\n"
        + good(4)
        + good(1)
        + b"\xff\n".decode("latin-1")
        + good(7)
        + '{"id": "E8"'
    )
    kb.write_bytes(content.encode("utf-8").replace("ÿ".encode(), b"\xff"))
    out = tmp_path / "idx"
    result = runner.invoke(
        app, ["index", str(kb), "--out", str(out), "--model", str(tiny_model), "--skip-bad", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["count"] == 3 and summary["skipped_rows"] == 5
    sidecar = [json.loads(line) for line in (out / "skipped_rows.jsonl").read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in sidecar] == [
        (2, "E004"),
        (3, "E006"),
        (5, "E007"),
        (6, "E003"),
        (8, "E005"),
    ]
    assert "Skipped 5 bad rows" in result.stderr


def test_skip_bad_with_nothing_usable(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_text("{bad\n{worse\n")
    result = run_index(kb, tmp_path / "idx", tiny_model, "--skip-bad")
    assert result.exit_code == 1
    assert "[E015]" in result.output and "2 skipped" in result.output


def test_csv_row_with_wrong_width(tmp_path, tiny_model):
    kb = tmp_path / "kb.csv"
    kb.write_text("id,title\nA,Alpha\nB,Beta,extra\n")
    result = run_index(kb, tmp_path / "idx", tiny_model)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E014] {kb}:3:")


def test_csv_missing_title_cell(tmp_path, tiny_model):
    kb = tmp_path / "kb.csv"
    kb.write_text("id,title\nA,Alpha\nB,\n")
    result = run_index(kb, tmp_path / "idx", tiny_model)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E006] {kb}:3:")


def test_usage_error_exits_2():
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 2


def test_a_failed_build_leaves_no_half_written_store(tmp_path, tiny_model):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(good(1) + "{bad\n")
    out = tmp_path / "idx"
    assert run_index(kb, out, tiny_model).exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == []
