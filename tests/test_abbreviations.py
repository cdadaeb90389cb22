"""Abbreviations defined in a document ("long form (SF)") and the links they carry."""

from __future__ import annotations

from entqa_kit.documents.abbreviations import find_abbreviations, occurrences
from entqa_kit.linking.abbreviation_links import link_abbreviations
from entqa_kit.reading.spans import ScoredSpan

TEXT = (
    "🙂 Ataxia-telangiectasia (A-T) is rare. Familial adenomatous polyposis (FAP) and FAP kindreds; "
    "colorectal cancer (CRC) was seen (see Table 1) in 1998 (n = 12) and (1998), myotonic dystrophy (DM)."
)


def pairs(text):
    return [
        (a.short, text[a.long_start : a.long_end], text[a.short_start : a.short_end])
        for a in find_abbreviations(text)
    ]


def test_definitions_with_their_long_forms_and_offsets():
    assert pairs(TEXT) == [
        ("A-T", "Ataxia-telangiectasia", "A-T"),
        ("FAP", "Familial adenomatous polyposis", "FAP"),
        ("CRC", "colorectal cancer", "CRC"),
    ]  # "(see Table 1)", "(n = 12)", "(1998)" are no abbreviations; DM's letters are not in order


def test_occurrences_are_whole_words_as_written():
    text = "FAP, FAPs, fap and (FAP) FAP-like"
    assert [text[s:e] for s, e in occurrences(text, "FAP")] == ["FAP", "FAP", "FAP"]
    assert occurrences(text, "FAP")[-1] == (text.index("FAP-like"), text.index("FAP-like") + 3)


def span_of(text, part, entity, score=0.9, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return ScoredSpan(start, start + len(part), entity, score)


def test_a_linked_long_form_links_every_later_use_where_nothing_else_is_linked():
    text = "FAP first. Familial adenomatous polyposis (FAP) is common; FAP and FAP again."
    long_form = span_of(text, "adenomatous polyposis", "D011125", 0.7)  # covers over half the long form
    other = span_of(text, "FAP", "X", 0.95, nth=2)  # the reader linked this use elsewhere: it stays
    got = link_abbreviations(text, [long_form, other])
    assert [(text[s.start : s.end], s.entity, s.score) for s in got] == [
        ("adenomatous polyposis", "D011125", 0.7),
        ("FAP", "D011125", 0.7),  # the definition's own short form
        ("FAP", "X", 0.95),
        ("FAP", "D011125", 0.7),
    ]
    assert all(
        s.start > text.index("(") for s in got if s.entity == "D011125" and text[s.start : s.end] == "FAP"
    )


def test_nothing_is_carried_from_an_unlinked_or_barely_covered_long_form():
    text = "Familial adenomatous polyposis (FAP) and FAP."
    assert link_abbreviations(text, []) == []
    barely = span_of(text, "Familial", "Q", 0.8)  # 8 of 30 characters
    assert link_abbreviations(text, [barely]) == [barely]
