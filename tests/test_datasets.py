import json

import pytest

from entqa_kit.core.errors import EntQAError
from entqa_kit.documents import load_documents
from entqa_kit.documents.pubtator import normalize_ids
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import DenseIndex
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def wiki_like_kb(tmp_path_factory, tiny_encoder):
    path = tmp_path_factory.mktemp("kb") / "kb.jsonl"
    titles = ["Germany", "Paris", "Manchester United F.C.", "Tokyo"]
    path.write_text("".join(json.dumps({"id": f"W{i}", "title": t}) + "\n" for i, t in enumerate(titles)))
    out = tmp_path_factory.mktemp("kb-index")
    build_index(path, out, encoder=tiny_encoder, quiet=True)
    return DenseIndex.load(out).kb


@pytest.fixture(scope="module")
def umls_kb(tmp_path_factory, tiny_encoder):
    out = tmp_path_factory.mktemp("umls-index")
    build_index(FIXTURES / "kb_umls.jsonl", out, encoder=tiny_encoder, quiet=True)
    return DenseIndex.load(out).kb


@pytest.fixture(scope="module")
def native_kb(tiny_index):
    return DenseIndex.load(tiny_index).kb


def test_jsonl_documents_resolve_ids_and_count_out_of_kb(native_kb):
    docs = load_documents(FIXTURES / "docs_toy.jsonl", native_kb)
    assert len(docs.documents) == 41
    multi = docs.documents[-1]
    assert [multi.text[m.start : m.end] for m in multi.mentions] == [
        "Paris Hilton",
        "Tokyo",
        "Zürich",
        "Bob Smith",
    ]
    assert [m.entities for m in multi.mentions] == [("Q5",), ("Q19",), ("Q17",), ()]
    assert docs.num_unresolved == 1 and docs.unresolved_labels["NOT_IN_KB"] == 1


def test_jsonl_documents_bad_offsets_and_malformed_lines(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "a", "text": "abc", "mentions": [{"start": 1, "end": 9, "entity": "x"}]}\n')
    with pytest.raises(EntQAError) as caught:
        load_documents(path)
    assert caught.value.code == "E051" and ":1:" in str(caught.value)
    path.write_text('{"id": "a", "text": "abc"}\n{"id": "b", "text": \n')
    with pytest.raises(EntQAError) as caught:
        load_documents(path)
    assert caught.value.code == "E004" and caught.value.line == 2
    path.write_text('{"id": "a"}\n')
    with pytest.raises(EntQAError) as caught:
        load_documents(path)
    assert caught.value.code == "E050"


def test_txt_directory_ids_are_relative_paths(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("First document.")
    (tmp_path / "sub" / "b.txt").write_text("Zweites Dokument über Zürich.")
    docs = load_documents(tmp_path, fmt="txt")
    assert [(d.id, d.text) for d in docs.documents] == [
        ("a.txt", "First document."),
        ("sub/b.txt", "Zweites Dokument über Zürich."),
    ]


def test_txt_non_utf8_is_a_coded_error(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"line one\ncaf\xe9\n")
    with pytest.raises(EntQAError) as caught:
        load_documents(tmp_path, fmt="txt")
    assert caught.value.code == "E003" and caught.value.line == 2


def test_aida_reader_splits_offsets_and_resolution(wiki_like_kb):
    path = FIXTURES / "aida_mini.tsv"
    everything = load_documents(path, wiki_like_kb, "aida")
    assert [d.id for d in everything.documents] == ["1 EU", "2testa SOCCER", "3testb TOKYO"]
    train = load_documents(path, wiki_like_kb, "aida", split="train")
    (doc,) = train.documents
    assert doc.text == "EU rejects German call .\nPeter Blackburn in Paris ."
    spans = [(doc.text[m.start : m.end], m.entities, m.label) for m in doc.mentions]
    assert spans == [
        ("EU", (), "--NME--"),
        ("German", ("W0",), "Germany"),
        ("Peter Blackburn", (), "--NME--"),
        ("Paris", ("W1",), "Paris"),
    ]
    testa = load_documents(path, wiki_like_kb, "aida", split="testa")
    (soccer,) = testa.documents
    assert [(soccer.text[m.start : m.end], m.entities) for m in soccer.mentions] == [
        ("Manchester United", ("W2",)),
        ("Atlantis", ()),
    ]
    assert testa.unresolved_labels == {"Atlantis_(myth)": 1}


def test_aida_reader_rejects_a_bad_line(tmp_path):
    path = tmp_path / "aida.tsv"
    path.write_text("-DOCSTART- (1 X)\nword\tQ\tbroken\n")
    with pytest.raises(EntQAError) as caught:
        load_documents(path, fmt="aida")
    assert caught.value.code == "E052" and caught.value.line == 2


def test_pubtator_joins_title_and_abstract_and_normalises_ids(umls_kb):
    docs = load_documents(FIXTURES / "pubtator_mini.txt", umls_kb, "pubtator")
    first, second = docs.documents
    assert (
        first.text == "Breast cancer and cystic fibrosis. We studied familial breast cancer in two cohorts."
    )
    got = [(first.text[m.start : m.end], m.entities) for m in first.mentions]
    assert got == [
        ("Breast cancer", ("MESH:D001943",)),
        ("cystic fibrosis", ("MESH:D003550",)),
        ("familial breast cancer", ("OMIM:114480",)),
        ("Breast cancer and cystic fibrosis", ("MESH:D001943", "MESH:D003550")),
    ]
    assert second.mentions[0].entities == ("MESH:D001943",), "resolved through an alt id"
    assert second.mentions[1].entities == () and docs.num_unresolved == 1


def test_normalize_ids():
    assert normalize_ids(" D001|OMIM:123+C05 ") == ["MESH:D001", "OMIM:123", "MESH:C05"]


def test_pubtator_malformed_line(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("1|t|Title.\n1|a|Abstract.\n1\t0\t5\tTitle\n")
    with pytest.raises(EntQAError) as caught:
        load_documents(path, fmt="pubtator")
    assert caught.value.code == "E053" and caught.value.line == 3


def test_unknown_document_format(tmp_path):
    with pytest.raises(EntQAError) as caught:
        load_documents(tmp_path, fmt="xml")
    assert caught.value.code == "E054"
