"""The linker's KB-name matcher: a link config's variants and exclusions, one match per text."""

from __future__ import annotations

from entqa_kit.core.config import LinkConfig
from entqa_kit.core.records import Passage
from entqa_kit.index.kb_source import open_kb
from entqa_kit.linking.link_names import LinkNames
from tests.conftest import FIXTURES

TEXT = "Breast cancers and Paris, then Paris again."


def test_settings_apply_and_a_text_is_matched_once():
    with open_kb(FIXTURES / "kb_native.jsonl") as opened:
        names = LinkNames(opened.kb, LinkConfig(name_variants=True, name_exclude=["Paris Hilton"]))
        plain = LinkNames(opened.kb, LinkConfig(name_exclude=["Paris"]))
    assert [TEXT[m.start : m.end] for m in names.find(TEXT)] == ["Breast cancers", "Paris", "Paris"]
    assert [TEXT[m.start : m.end] for m in plain.find(TEXT)] == []
    calls = []
    matcher_find = names._matcher.find
    names._matcher.find = lambda text, excluded: calls.append(text) or matcher_find(text, excluded)
    names.find.cache_clear()
    for _ in range(3):
        names.find(TEXT)
    assert calls == [TEXT]


def test_in_passage_keeps_the_matches_wholly_inside():
    with open_kb(FIXTURES / "kb_native.jsonl") as opened:
        names = LinkNames(opened.kb, LinkConfig())
    passage = Passage(document_id="d", index=0, token_ids=(1, 2), offsets=((15, 18), (19, 24)))
    assert [(m.start, m.end) for m in names.in_passage(TEXT, passage)] == [(19, 24)]
