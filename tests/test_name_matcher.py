"""The name matcher: token boundaries, case rules, leftmost-longest, ambiguity, filters, Unicode offsets."""

from __future__ import annotations

import pytest

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Entity
from entqa_kit.kb.name_matcher import MatcherOptions, NameMatch, NameMatcher, exact_case, fold_case

NONE = frozenset()


def entities(*specs: tuple[str, str, tuple[str, ...]]) -> list[tuple[int, Entity]]:
    return [(row, Entity(id=i, title=t, aliases=a)) for row, (i, t, a) in enumerate(specs)]


def matcher(*specs, **options) -> NameMatcher:
    return NameMatcher.from_entities(entities(*specs), MatcherOptions(**options))


def spans(found: list[NameMatch], text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.entity_id) for m in found]


def test_matches_only_on_token_boundaries():
    m = matcher(("D1", "anemia", ()), ("D2", "BRCA1", ()))
    text = "Anemia, not hypoanemiac; anemia-like BRCA1 but not BRCA12 or xBRCA1 (anemia)"
    assert spans(m.find(text), text) == [
        ("Anemia", "D1"),
        ("anemia", "D1"),
        ("BRCA1", "D2"),
        ("anemia", "D1"),
    ]


def test_combining_accent_after_a_name_is_part_of_the_word():
    m = matcher(("P1", "cafe", ()))
    assert m.find("un cafe\u0301 noir") == []
    assert [x.entity_id for x in m.find("un cafe noir")] == ["P1"]


def test_acronyms_match_exactly_and_lowercase_names_case_insensitively():
    m = matcher(
        ("ALL", "Acute lymphoblastic leukemia", ("ALL",)),
        ("AS", "Ankylosing spondylitis", ("AS",)),
        ("MRNA", "Messenger RNA", ("mRNA",)),
    )
    text = "All of us, as ALL and AS patients: ACUTE LYMPHOBLASTIC LEUKEMIA, mrna and mRNA."
    assert spans(m.find(text), text) == [
        ("ALL", "ALL"),
        ("AS", "AS"),
        ("ACUTE LYMPHOBLASTIC LEUKEMIA", "ALL"),
        ("mRNA", "MRNA"),
    ]


def test_case_rules():
    assert exact_case("ALL") and exact_case("BRCA1") and exact_case("HIV-1") and exact_case("mRNA")
    assert not exact_case("anemia") and not exact_case("Paris") and not exact_case("McCune-Albright")
    assert exact_case("Paris", "exact") and not exact_case("ALL", "insensitive")
    text = "paris and PARIS"
    exact = matcher(("Q1", "Paris", ()), case="exact")
    assert exact.find(text) == []
    insensitive = matcher(("Q1", "Paris", ()), case="insensitive")
    assert spans(insensitive.find(text), text) == [("paris", "Q1"), ("PARIS", "Q1")]


def test_longest_match_wins_without_overlaps():
    m = matcher(
        ("C1", "breast cancer", ()),
        ("C2", "cancer", ()),
        ("C3", "hereditary breast cancer", ()),
        ("C4", "cancer syndrome", ()),
    )
    text = "Hereditary breast cancer syndrome, breast cancer and cancer."
    assert spans(m.find(text), text) == [
        ("Hereditary breast cancer", "C3"),
        ("breast cancer", "C1"),
        ("cancer", "C2"),
    ]


def test_a_shared_name_goes_to_the_entity_whose_title_it_is():
    specs = (
        ("Q1", "Paris", ()),
        ("Q5", "Paris Hilton", ("Paris",)),
        ("X1", "Gotham", ()),
        ("X2", "NYC", ("gotham",)),
        ("X3", "Metropolis", ("GOTHAM",)),
    )
    text = "Paris is not Gotham."
    canonical = matcher(*specs)
    assert spans(canonical.find(text), text) == [("Paris", "Q1"), ("Gotham", "X1")]
    assert canonical.report.given_to_canonical == 2
    skip = matcher(*specs, ambiguous="skip")
    assert skip.find(text) == []
    assert skip.report.dropped["ambiguous"] == 2
    every = matcher(*specs, ambiguous="all")
    assert spans(every.find(text), text) == [
        ("Paris", "Q1"),
        ("Paris", "Q5"),
        ("Gotham", "X1"),
        ("Gotham", "X2"),
    ]
    assert every.candidates(text) == [0, 1, 2, 3]


def test_a_shared_name_that_is_nobodys_title_is_dropped():
    m = matcher(("A", "Alpha", ("the thing",)), ("B", "Beta", ("The Thing",)))
    assert m.find("the thing") == []
    assert m.report.dropped["ambiguous"] == 1
    assert m.report.as_json() == {
        "names": 3,
        "kept": 2,
        "entities": 2,
        "given_to_canonical": 0,
        "dropped": {"too_short": 0, "stop_word": 0, "ambiguous": 1, "frequent": 0},
    }


def test_short_names_are_dropped_unless_acronyms():
    m = matcher(("E1", "Eye", ("ey", "E", "AS", "Hb")), min_chars=3)
    text = "ey E AS Hb eye"
    assert spans(m.find(text), text) == [("AS", "E1"), ("eye", "E1")]
    assert m.report.dropped["too_short"] == 3
    longer = matcher(("E1", "Eye", ("ey", "E", "AS", "Hb")), min_chars=4)
    assert spans(longer.find(text), text) == [("AS", "E1")]
    assert longer.report.dropped["too_short"] == 4


def test_stop_words_are_dropped_when_matched_case_insensitively():
    specs = (("W1", "Was", ("Wilms tumor",)), ("W2", "WAS", ("Wiskott-Aldrich syndrome",)))
    text = "It was WAS, not Wilms tumor."
    m = matcher(*specs)
    assert spans(m.find(text), text) == [("WAS", "W2"), ("Wilms tumor", "W1")]
    assert m.report.dropped["stop_word"] == 1
    own = matcher(*specs, stop_words=frozenset({"wilms tumor"}))
    assert spans(own.find(text), text) == [("was", "W1"), ("WAS", "W2")]
    assert own.report.dropped["stop_word"] == 1
    assert matcher(*specs, stop_words=NONE).report.dropped["stop_word"] == 0


def test_document_share_filter_drops_frequent_names_and_reveals_shorter_ones():
    m = matcher(("D1", "disease", ()), ("D2", "Fabry disease", ()), ("D3", "Fabry", ()), max_doc_share=0.5)
    texts = ["a disease"] * 12 + ["Fabry disease"] * 11 + ["nothing"] * 7
    corpus = m.match_corpus(texts)
    assert corpus.frequent == {}
    assert m.report.dropped["frequent"] == 0
    m = matcher(("D1", "disease", ()), ("D2", "Fabry disease", ()), ("D3", "Fabry", ()), max_doc_share=0.3)
    corpus = m.match_corpus(texts)
    assert corpus.frequent == {"disease": 0.4, "Fabry disease": 0.3667}
    assert m.report.dropped["frequent"] == 2
    assert corpus.matches[0] == []
    assert [(x.start, x.end, x.entity_id) for x in corpus.matches[12]] == [(0, 5, "D3")]


def test_document_share_filter_needs_enough_documents():
    m = matcher(("D1", "disease", ()), max_doc_share=0.1)
    corpus = m.match_corpus(["a disease"] * 19)
    assert corpus.frequent == {}
    assert len(corpus.matches) == 19 and all(len(found) == 1 for found in corpus.matches)


def test_offsets_are_python_str_offsets_after_emoji_accents_and_expanding_case():
    m = matcher(("Q1", "Zürich", ()), ("Q2", "BRCA1", ()))
    text = "🧬 İİ Ünïcode 👩‍🔬: ZÜRICH\n\tand BRCA1 in zürich"
    found = m.find(text)
    assert [text[x.start : x.end] for x in found] == ["ZÜRICH", "BRCA1", "zürich"]
    assert found[0] == NameMatch(text.index("ZÜRICH"), text.index("ZÜRICH") + 6, "Q1", "Zürich", 0)
    assert len(fold_case("İx")) == 2


def test_names_match_across_any_whitespace():
    m = matcher(("C1", "breast  cancer", ()))
    text = "breast\ncancer and breast\u00a0cancer"
    assert spans(m.find(text), text) == [("breast\ncancer", "C1"), ("breast\u00a0cancer", "C1")]
    assert m.find("breastcancer") == []


def test_bad_options_are_coded_errors():
    with pytest.raises(EntQAError) as caught:
        MatcherOptions(ambiguous="first")
    assert (
        caught.value.message
        == "[E041] ambiguous must be 'canonical' or 'skip' or 'all', got 'first'; fix the value"
    )
    with pytest.raises(EntQAError) as caught:
        MatcherOptions(max_doc_share=1.5)
    assert caught.value.message == "[E041] max_doc_share must be a share in (0, 1], got 1.5; fix the value"


def test_builds_from_a_knowledge_base_store(tmp_path):
    from pathlib import Path

    from entqa_kit.index.kb_source import open_kb

    kb_file = Path(__file__).parent / "fixtures" / "kb_native.jsonl"
    with open_kb(kb_file) as opened:
        m = NameMatcher.from_kb(opened.kb)
        text = "Paris Hilton flew from the City of Light to Deutschland."
        assert spans(m.find(text), text) == [
            ("Paris Hilton", opened.kb.by_id("Q5").id),
            ("City of Light", "Q1"),
            ("Deutschland", "Q4"),
        ]
        assert m.candidates(text) == [opened.kb.row_of("Q5"), 0, opened.kb.row_of("Q4")]
        assert opened.source == "jsonl"
