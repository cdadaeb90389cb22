import json

import pytest

from entqa_kit.kb.store import KnowledgeBase, normalize_title
from kb_adapters.base import BadRowLog, ReadOptions
from kb_adapters.registry import get_adapter
from tests.conftest import FIXTURES


def build(path, out):
    bad = BadRowLog(False)
    return KnowledgeBase.build(get_adapter(path).read(path, ReadOptions(), bad), out, path, bad)


@pytest.fixture
def kb(tmp_path):
    return build(FIXTURES / "kb_native.jsonl", tmp_path / "kb.sqlite")


def test_rows_follow_file_order_and_lookups(kb):
    assert len(kb) == 20
    assert kb.by_row(0).id == "Q1" and kb.row_of("Q20") == 19
    assert kb.by_id("Q8").title == "Breast cancer"
    assert kb.by_id("missing") is None
    assert [e.id for e in kb.by_rows([3, 0, 3])] == ["Q4", "Q1", "Q4"]
    assert [r for r, _ in kb.iter_entities(5, 8)] == [5, 6, 7]


def test_title_lookup_exact_then_normalised(kb):
    assert kb.rows_by_title("Manchester United F.C.") == [14]
    assert kb.rows_by_title("Manchester_United_F.C.") == [14]
    assert kb.rows_by_title("breast_cancer") == [7], "first letter case and underscores are normalised"
    assert kb.rows_by_title("Breast Cancer") == [], "case after the first letter matters"


def test_normalize_title():
    assert normalize_title("  new_york__city ") == "New york city"


def test_alt_id_lookup(tmp_path):
    kb = build(FIXTURES / "kb_umls.jsonl", tmp_path / "kb.sqlite")
    assert kb.rows_by_alt_id("DO:DOID:1612") == [0]
    assert kb.by_row(0).alt_ids == ("DO:DOID:1612",)


def test_fingerprint_is_content_based(tmp_path, kb):
    copy = tmp_path / "copy.jsonl"
    copy.write_text((FIXTURES / "kb_native.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    assert build(copy, tmp_path / "copy.sqlite").fingerprint == kb.fingerprint
    lines = copy.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["description"] += " Changed."
    copy.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    assert build(copy, tmp_path / "changed.sqlite").fingerprint != kb.fingerprint
