"""The adapters on the full shared data (fast: no model). Skips when ../shared/data is absent."""

import pytest

from kb_adapters.base import BadRowLog, ReadOptions, TableColumns
from kb_adapters.registry import get_adapter

pytestmark = pytest.mark.data


def test_wiki_kilt_kb(shared_data, read_kb):
    name, rows = read_kb(shared_data / "kb" / "wiki_kb.kilt.jsonl")
    assert name == "kilt" and len(rows) == 15019
    with_text = sum(1 for r in rows if r.entity.description)
    assert with_text == 10033


def test_medic_umls_jsonl(shared_data, read_kb):
    name, rows = read_kb(shared_data / "medic" / "medic.umls.jsonl")
    assert name == "umls" and len(rows) == 11865
    breast = next(r.entity for r in rows if r.entity.id == "MESH:D001943")
    assert breast.title == "Breast Neoplasms" and "Breast Cancer" in breast.aliases


def test_medic_ctd_tsv_through_the_table_adapter(shared_data, read_kb):
    columns = TableColumns(
        id="DiseaseID",
        title="DiseaseName",
        description="Definition",
        aliases="Synonyms",
        alt_ids="AltDiseaseIDs",
    )
    name, rows = read_kb(shared_data / "medic" / "CTD_diseases.tsv", options=ReadOptions(columns=columns))
    assert name == "csv" and len(rows) == 11865
    _, umls = read_kb(shared_data / "medic" / "medic.umls.jsonl")
    assert [r.entity.id for r in rows] == [r.entity.id for r in umls]
    assert sum(1 for r in rows if r.entity.description) == 4691


@pytest.fixture(scope="module")
def wiki_store(tmp_path_factory):
    from entqa_kit.kb.store import KnowledgeBase
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    path = SHARED_DATA / "kb" / "wiki_kb.kilt.jsonl"
    bad = BadRowLog(False)
    out = tmp_path_factory.mktemp("wiki") / "kb.sqlite"
    return KnowledgeBase.build(get_adapter(path).read(path, ReadOptions(), bad), out, path, bad)


@pytest.mark.parametrize(
    ("split", "docs", "mentions", "linked"),
    [("train", 946, 23396, 18541), ("testa", 216, 5917, 4791), ("testb", 231, 5616, 4485)],
)
def test_aida_reader_matches_the_published_counts(shared_data, wiki_store, split, docs, mentions, linked):
    from entqa_kit.documents import load_documents

    result = load_documents(shared_data / "aida" / "AIDA-YAGO2-dataset.tsv", wiki_store, "aida", split)
    assert (len(result.documents), result.num_mentions, result.num_in_kb) == (docs, mentions, linked)
    for document in result.documents[:20]:
        for mention in document.mentions:
            assert (
                document.text[mention.start : mention.end].strip()
                == document.text[mention.start : mention.end]
            )


def test_ncbi_test_ids_resolve_against_medic(shared_data, tmp_path):
    from entqa_kit.documents import load_documents
    from entqa_kit.kb.store import KnowledgeBase

    path = shared_data / "medic" / "medic.umls.jsonl"
    bad = BadRowLog(False)
    medic = KnowledgeBase.build(
        get_adapter(path).read(path, ReadOptions(), bad), tmp_path / "m.sqlite", path, bad
    )
    result = load_documents(shared_data / "ncbi-disease" / "NCBItestset_corpus.txt", medic, "pubtator")
    assert (len(result.documents), result.num_mentions, result.num_in_kb) == (100, 960, 954)
