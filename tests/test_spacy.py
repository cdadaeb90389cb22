"""The spaCy component "entqa_linker": doc.ents with KB ids and scores, pipe batching, overlaps, displacy."""

from __future__ import annotations

import pytest

from entqa_kit.core.records import LinkedDocument, LinkedSpan
from entqa_kit.index.dense import DenseIndex
from tests.fake_linker import BatchingFakeLinker, FakeLinker

spacy = pytest.importorskip("spacy")


@pytest.fixture
def index(tiny_index):
    return DenseIndex.load(tiny_index)


@pytest.fixture
def loaded(monkeypatch, index):
    """Make the factory load a fake linker; returns what it was asked to load."""
    from entqa_kit.serving import spacy_component

    asked = []

    def load(index_dir, model, threshold, top_k, overlaps):
        asked.append((index_dir, model, threshold, top_k, overlaps))
        return BatchingFakeLinker(index)

    monkeypatch.setattr(spacy_component, "load_linker", load)
    return asked


def pipeline(config: dict):
    nlp = spacy.blank("en")
    nlp.add_pipe("entqa_linker", config=config)
    return nlp


def test_the_factory_is_found_through_the_entry_point_alone():
    """A fresh interpreter that has not imported entqa_kit finds the factory through the entry point."""
    import subprocess
    import sys

    code = (
        "import spacy, sys\n"
        "assert 'entqa_kit' not in sys.modules\n"
        "nlp = spacy.blank('en')\n"
        "try:\n"
        "    nlp.add_pipe('entqa_linker')\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == (
        "EntQAError [E041] entqa_linker config 'index' must be an index directory, got None; fix the value"
    ), out.stderr


def test_nlp_sets_ents_with_kb_ids_and_scores(loaded):
    nlp = pipeline({"index": "IDX", "model": None})
    doc = nlp("Paris Hilton visited Berlin.")
    assert loaded == [("IDX", None, None, None, False)]
    assert [(e.text, e.kb_id_, e.label_, e._.entqa_score) for e in doc.ents] == [
        ("Paris Hilton", "Q5", "person", 0.99),
        ("Berlin", "Q3", "city", 0.7),
    ]
    assert [(s.text, s.kb_id_) for s in doc.spans["entqa"]] == [("Paris Hilton", "Q5"), ("Berlin", "Q3")]
    assert doc[0].ent_kb_id_ == "Q5"


def test_pipe_links_batches_of_documents_together(loaded):
    nlp = pipeline({"index": "IDX"})
    texts = ["Berlin.", "Tokyo and Paris.", "Nothing.", "Asthma", "Jaguar Cars"]
    docs = list(nlp.pipe(texts, batch_size=2))
    assert [[e.kb_id_ for e in d.ents] for d in docs] == [["Q3"], ["Q19", "Q1"], [], ["Q10"], ["Q12"]]
    linker = nlp.get_pipe("entqa_linker").linker
    assert linker.calls.batches == [2, 2, 1]


def test_pipe_without_a_batch_api_links_one_by_one(monkeypatch, index):
    from entqa_kit.serving import spacy_component

    monkeypatch.setattr(spacy_component, "load_linker", lambda *args: FakeLinker(index))
    nlp = pipeline({"index": "IDX"})
    docs = list(nlp.pipe(["Berlin.", "Tokyo."], batch_size=8))
    assert [[e.kb_id_ for e in d.ents] for d in docs] == [["Q3"], ["Q19"]]


def test_overlapping_mentions_go_to_doc_spans_only(loaded, index):
    nlp = pipeline({"index": "IDX", "allow_overlaps": True})
    component = nlp.get_pipe("entqa_linker")
    doc = nlp.make_doc("Paris Hilton visited Berlin.")
    spans = [
        LinkedSpan(start=0, end=12, text="Paris Hilton", entity="Q5", title="Paris Hilton", score=0.9),
        LinkedSpan(start=0, end=5, text="Paris", entity="Q1", title="Paris", score=0.4),
    ]
    component.set_annotations(doc, LinkedDocument(id="0", mentions=spans))
    assert loaded[-1][-1] is True, "allow_overlaps reaches the linker"
    assert doc.ents == ()
    assert [(s.text, s.kb_id_, s._.entqa_score) for s in doc.spans["entqa"]] == [
        ("Paris Hilton", "Q5", 0.9),
        ("Paris", "Q1", 0.4),
    ]


def test_character_offsets_inside_a_token_expand_to_the_token(loaded):
    nlp = pipeline({"index": "IDX"})
    doc = nlp.make_doc("The Berliner Zeitung")
    mention = LinkedSpan(start=4, end=10, text="Berlin", entity="Q3", title="Berlin", score=0.5)
    nlp.get_pipe("entqa_linker").set_annotations(doc, LinkedDocument(id="0", mentions=[mention]))
    assert [(e.text, e.kb_id_) for e in doc.ents] == [("Berliner", "Q3")]


def test_displacy_renders_the_linked_entities(loaded):
    from spacy import displacy

    doc = pipeline({"index": "IDX"})("Paris Hilton visited Berlin.")
    html = displacy.render(doc, style="ent", page=True)
    assert "Paris Hilton" in html and "Berlin" in html and "person" in html
    spans_html = displacy.render(doc, style="span", options={"spans_key": "entqa"})
    assert "Berlin" in spans_html


def test_a_config_without_an_index_is_a_coded_error():
    from entqa_kit.core.errors import EntQAError

    with pytest.raises(EntQAError) as caught:
        pipeline({"model": None})
    assert str(caught.value) == (
        "[E041] entqa_linker config 'index' must be an index directory, got None; fix the value"
    )
