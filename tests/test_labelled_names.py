"""Names learnt from labelled documents: majority spellings, labels winning over the KB, mostly-wrong
names left out, the file in a model directory, ``train --stage names`` and ``adapt --labelled``."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.config import LinkConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, Entity, Mention
from entqa_kit.kb.labelled_names import (
    LABELLED_NAMES_FILE,
    LabelledNames,
    learn_names,
    load_labelled_names,
    majority_spellings,
    mostly_wrong_names,
    save_labelled_names,
)
from entqa_kit.kb.name_matcher import MatcherOptions, NameMatch, NameMatcher
from tests.conftest import FIXTURES, toy_recipe

runner = CliRunner()


def doc(doc_id: str, text: str, *mentions: tuple[str, str | tuple[str, ...]]) -> Document:
    """A document whose mentions are the first occurrence of each given spelling."""
    spans = []
    for spelling, entities in mentions:
        start = text.index(spelling)
        ids = (entities,) if isinstance(entities, str) else entities
        spans.append(Mention(start=start, end=start + len(spelling), entities=ids))
    return Document(id=doc_id, text=text, mentions=spans)


def found(matcher: NameMatcher, text: str, exclude=frozenset()) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.entity_id) for m in matcher.find(text, exclude)]


KB_ROWS = [
    (0, Entity(id="D1", title="Myocardial infarction", aliases=("Heart attack",))),
    (1, Entity(id="D2", title="Diabetes mellitus", aliases=("DM",))),
    (2, Entity(id="D3", title="Myotonic dystrophy", aliases=())),
    (3, Entity(id="D4", title="Breast cancer", aliases=())),
]


def test_each_spelling_goes_to_the_entity_its_labels_give_it_most_often():
    docs = [
        doc("a", "An  MI today.", ("An  MI", "D1")),
        doc("b", "An MI again.", ("An MI", "D1")),
        doc("c", "An MI or not.", ("An MI", "D3")),
        doc("d", "Tie here: XY.", ("XY", "D3")),
        doc("e", "Tie there: XY.", ("XY", "D2")),
        doc("f", "Breast and ovarian cancer.", ("Breast and ovarian cancer", ("D4", "D5"))),
        doc("g", "Out of the KB: Foo.", ("Foo", ())),
    ]
    spellings, mentions = majority_spellings(docs)
    assert spellings == {"An MI": "D1", "XY": "D2"}, "whitespace folded; ties go to the smallest id"
    assert mentions == 5, "composite and out-of-KB mentions teach no spelling"


def test_learnt_spellings_match_and_win_over_the_kb():
    labelled = {"DM": "D3", "heart failure attack": "D1", "unknown thing": "D99"}
    matcher = NameMatcher.from_entities(KB_ROWS, MatcherOptions(variants=True), labelled)
    text = "DM, Heart Failure Attacks, a heart attack, diabetes mellitus and an unknown thing."
    assert found(matcher, text) == [
        ("DM", "D3"),  # the KB's alias of D2, but the labels give it to D3
        ("Heart Failure Attacks", "D1"),  # case-folded like any lowercase name; plural variant
        ("heart attack", "D1"),
        ("diabetes mellitus", "D2"),
    ], "an id the KB does not hold is ignored"
    plain = NameMatcher.from_entities(KB_ROWS, MatcherOptions())
    assert found(plain, "DM") == [("DM", "D2")]


def test_names_matched_at_least_twice_and_mostly_wrongly_are_left_out():
    def match(name: str, start: int, entity: str = "D1") -> NameMatch:
        return NameMatch(start, start + 2, entity, name, 0)

    gold = {(0, 2): ("D1",), (10, 12): ("D1",), (20, 22): ("D1",)}
    judged = [
        ([match("once", 5)], gold),  # wrong once: too few matches to judge
        ([match("never", 5), match("never", 6)], gold),  # 0 of 2 right
        ([match("third", 0), match("third", 5), match("third", 6)], gold),  # 1 of 3 right: 0.33 >= 0.3
        ([match("quarter", 0), *(match("quarter", s) for s in (3, 4, 5))], gold),  # 1 of 4: 0.25
        ([match("wrong id", 0, "D2"), match("wrong id", 10, "D2")], gold),  # right span, wrong entity
    ]
    assert mostly_wrong_names(judged) == ("never", "quarter", "wrong id")


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    from entqa_kit.kb.store import KnowledgeBase
    from kb_adapters.base import BadRowLog, ReadOptions
    from kb_adapters.registry import get_adapter

    path = FIXTURES / "kb_native.jsonl"
    rows = get_adapter(path, None).read(path, ReadOptions(), BadRowLog(False))
    opened = KnowledgeBase.build(rows, tmp_path_factory.mktemp("kb") / "kb.sqlite", path, BadRowLog(False))
    yield opened
    opened.close()


def test_learn_names_from_labelled_documents(kb):
    docs = [
        doc("a", "The Big Apple and Paris.", ("Big Apple", "Q1")),
        doc("b", "Python is a snake; so is the Python here.", ("Python", "Q7")),
        doc("c", "Germany, not Paris.", ("Germany", "Q4")),
    ]
    names = learn_names(docs, kb, variants=False, exclude=["Deutschland"])
    assert names.aliases == {"Big Apple": "Q1", "Python": "Q7", "Germany": "Q4"}
    assert (names.documents, names.mentions) == (3, 3)
    # "Paris" (the KB's title of Q1) matched twice, never a gold mention: left out. "Python" is now
    # Q7's (the labels win over the KB's Q6 alias): right once in two matches, 0.5, kept.
    assert names.excluded == ("Paris",)


def test_saved_names_load_back_and_bad_files_are_coded_errors(tmp_path):
    names = LabelledNames({"b": "Q2", "a": "Q1"}, ("Paris",), documents=2, mentions=3)
    path = save_labelled_names(tmp_path, names)
    assert path == tmp_path / LABELLED_NAMES_FILE
    assert list(json.loads(path.read_text())["aliases"]) == ["a", "b"]
    assert load_labelled_names(tmp_path) == LabelledNames({"a": "Q1", "b": "Q2"}, ("Paris",), 2, 3)
    assert not list(tmp_path.glob(".*.tmp")), "written atomically"

    with pytest.raises(EntQAError) as missing:
        load_labelled_names(tmp_path / "nowhere")
    assert (
        missing.value.code == "E045"
        and str(tmp_path / "nowhere" / LABELLED_NAMES_FILE) in missing.value.message
    )
    for bad in (
        "{not json",
        '{"aliases": [], "excluded": []}',
        '{"aliases": {"a": 1}, "excluded": []}',
        "[]",
    ):
        path.write_text(bad)
        with pytest.raises(EntQAError) as caught:
            load_labelled_names(tmp_path)
        assert caught.value.code == "E045" and str(path) in caught.value.message


def test_the_linker_name_matcher_uses_learnt_names_and_leaves_out_excluded_ones(kb):
    from entqa_kit.linking.link_names import LinkNames

    learnt = LabelledNames({"Big Apple": "Q1"}, ("Germany",))
    text = "The Big Apple, Germany and Berlin."
    names = LinkNames(kb, LinkConfig(), learnt)
    assert [(text[m.start : m.end], m.entity_id) for m in names.find(text)] == [
        ("Big Apple", "Q1"),
        ("Berlin", "Q3"),
    ]
    plain = LinkNames(kb, LinkConfig())
    assert [text[m.start : m.end] for m in plain.find(text)] == ["Germany", "Berlin"]


def labelled_docs(path):
    rows = [
        {"id": "l1", "text": "The Big Apple is far from Berlin.", "mentions": [{"start": 4, "end": 13}]},
        {"id": "l2", "text": "Big Apple again.", "mentions": [{"start": 0, "end": 9}]},
    ]
    for row in rows:
        row["mentions"][0]["entity"] = "Q1"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_train_stage_names_gives_a_trained_model_the_recipes_name_settings_and_learnt_names(
    tmp_path, toy_model, tiny_model
):
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.model_dir import read_model_config

    trained, index_dir = toy_model
    model = tmp_path / "model"
    shutil.copytree(trained, model)
    threshold = read_model_config(model).link.threshold
    recipe = toy_recipe(tmp_path, tiny_model, index_dir)
    train_set = f"data.train={labelled_docs(tmp_path / 'labelled.jsonl')}"
    args = ["train", "--recipe", str(recipe), "--out", str(model), "--stage", "names", "--set", train_set]

    settings_only = runner.invoke(app, [*args, "--set", "link.name_anchor_floor=0.2", "--json", "-q"])
    assert settings_only.exit_code == 0, settings_only.output
    assert "labelled_names" not in json.loads(settings_only.stdout.strip().splitlines()[-1])
    saved = read_model_config(model).link
    assert saved.name_anchor_floor == 0.2 and not saved.labelled_names and saved.threshold == threshold
    assert not (model / LABELLED_NAMES_FILE).exists()

    result = runner.invoke(app, [*args, "--set", "link.labelled_names=true", "--json", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["labelled_names"] == {"documents": 2, "aliases": 1, "excluded": 0}
    saved = read_model_config(model).link
    assert saved.labelled_names and saved.threshold == threshold, "the calibrated γ is kept"
    assert saved.name_anchor_floor is None, "the recipe's name settings, all of them"
    assert "- name layer: names learnt from labels (labelled_names.json)" in (model / "README.md").read_text()
    linker = Linker.from_pretrained(index_dir, model)
    assert linker.labelled_names.aliases == {"Big Apple": "Q1"}
    assert [m.entity_id for m in linker.name_matches("I love the big apple.")] == ["Q1"]

    (model / LABELLED_NAMES_FILE).unlink()
    with pytest.raises(EntQAError) as caught:
        Linker.from_pretrained(index_dir, model)
    assert caught.value.code == "E045" and "has no learnt names" in caught.value.message


def test_adapt_learns_names_from_the_labelled_documents_it_trains_on(tmp_path, toy_model):
    from entqa_kit.adaptation.adapt import AdaptOptions, adapt
    from entqa_kit.models.model_dir import read_model_config

    model, _ = toy_model
    labelled = labelled_docs(tmp_path / "labelled.jsonl")
    options = AdaptOptions(
        labelled=labelled, dev=labelled, init_from=model, budget_minutes=0.1,
        matcher=MatcherOptions(max_doc_share=1.0),
    )  # fmt: skip
    result = adapt(
        FIXTURES / "kb_native.jsonl", FIXTURES / "docs_toy.jsonl", tmp_path / "a", options, quiet=True
    )
    assert read_model_config(tmp_path / "a").link.labelled_names
    assert load_labelled_names(tmp_path / "a").aliases == {"Big Apple": "Q1"}
    assert result.training["labelled_names"]["aliases"] == 1
    assert any(step == "names" for step, _, _ in result.summary_rows())
