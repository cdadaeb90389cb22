"""British spellings and plurals of KB names (``MatcherOptions.variants``, ``link.name_variants``)."""

from __future__ import annotations

import pytest

from entqa_kit.core.config import LinkConfig
from entqa_kit.core.records import Entity
from entqa_kit.kb.name_matcher import MatcherOptions, NameMatcher
from entqa_kit.kb.name_variants import british_spellings, name_variants, plural


@pytest.mark.parametrize(
    ("name", "british"),
    [
        ("tumor", "tumour"),
        ("wilms tumors", "wilms tumours"),
        ("hemolytic anemia", "haemolytic anaemia"),
        ("ischemic stroke", "ischaemic stroke"),
        ("diarrhea", "diarrhoea"),
        ("sleep apnea", "sleep apnoea"),
        ("celiac disease", "coeliac disease"),
        ("fetal alcohol syndrome", "foetal alcohol syndrome"),
        ("pediatric obesity", "paediatric obesity"),
        ("esophageal neoplasms", "oesophageal neoplasms"),
        ("edema", "oedema"),
        ("anesthesia", "anaesthesia"),
    ],
)
def test_british_spellings(name, british):
    assert british_spellings(name) == {british}


@pytest.mark.parametrize("name", ["motor neuron disease", "donor", "tumorigenesis", "cystic fibrosis"])
def test_words_without_a_british_spelling_stay(name):
    assert british_spellings(name) == set()


def test_plurals_of_the_last_word_only_where_a_simple_rule_holds():
    assert plural("breast cancer") == "breast cancers"
    assert plural("myopathy") == "myopathies"
    assert plural("chondrodysplasia") == "chondrodysplasias"
    for name in ("cystic fibrosis", "hemophilia a", "brca1", "leukemia, myeloid", "reflux"):
        assert plural(name) is None
    assert name_variants("tumor") == {"tumors", "tumour", "tumours"}
    assert "tumor" not in name_variants("tumor")


def entities() -> list[tuple[int, Entity]]:
    return [
        (0, Entity(id="D1", title="Tumor", aliases=("Neoplasm",))),
        (1, Entity(id="D2", title="Tumors, benign")),
        (2, Entity(id="D3", title="Disease")),
        (3, Entity(id="D4", title="Tumours")),  # a KB name that is another name's variant
    ]


def spans(matcher: NameMatcher, text: str, exclude: frozenset[str] = frozenset()):
    return [(text[m.start : m.end], m.entity_id, m.name) for m in matcher.find(text, exclude)]


TEXT = "Two tumours, a tumour and neoplasms; diseases."


def test_variants_match_only_when_asked_and_link_to_their_names_entity():
    plain = NameMatcher.from_entities(entities(), MatcherOptions(max_doc_share=None))
    assert spans(plain, TEXT) == [("tumours", "D4", "Tumours")]
    matcher = NameMatcher.from_entities(entities(), MatcherOptions(max_doc_share=None, variants=True))
    assert spans(matcher, TEXT) == [
        ("tumours", "D4", "Tumours"),  # the KB's own name wins over Tumor's plural variant
        ("tumour", "D1", "tumour"),
        ("neoplasms", "D1", "neoplasms"),
        ("diseases", "D3", "diseases"),
    ]


def test_a_variant_is_excluded_with_its_name_and_counted_apart_for_frequency():
    matcher = NameMatcher.from_entities(entities(), MatcherOptions(max_doc_share=None, variants=True))
    assert [s[0] for s in spans(matcher, TEXT, frozenset({"Tumor", "Disease"}))] == ["tumours", "neoplasms"]
    options = MatcherOptions(max_doc_share=0.5, min_docs_for_share=2, variants=True)
    corpus = NameMatcher.from_entities(entities(), options).match_corpus(["a tumour", "a tumour", "a tumor"])
    assert corpus.frequent == {"tumour": 0.6667}
    assert [[m.name for m in found] for found in corpus.matches] == [[], [], ["Tumor"]]


def test_the_linker_setting_is_off_by_default():
    assert LinkConfig().name_variants is False
    assert LinkConfig(name_variants=True).name_variants is True
