"""The adapters on the full shared data (fast: no model). Skips when ../shared/data is absent."""

import pytest

from kb_adapters.base import BadRowLog, ReadOptions, TableColumns
from kb_adapters.registry import get_adapter

pytestmark = pytest.mark.data


def read(path, fmt=None, options=None):
    adapter = get_adapter(path, fmt)
    return adapter.name, list(adapter.read(path, options or ReadOptions(), BadRowLog(False)))


def test_wiki_kilt_kb(shared_data):
    name, rows = read(shared_data / "kb" / "wiki_kb.kilt.jsonl")
    assert name == "kilt" and len(rows) == 15019
    with_text = sum(1 for r in rows if r.entity.description)
    assert with_text == 10033


def test_medic_umls_jsonl(shared_data):
    name, rows = read(shared_data / "medic" / "medic.umls.jsonl")
    assert name == "umls" and len(rows) == 11865
    breast = next(r.entity for r in rows if r.entity.id == "MESH:D001943")
    assert breast.title == "Breast Neoplasms" and "Breast Cancer" in breast.aliases


def test_medic_ctd_tsv_through_the_table_adapter(shared_data):
    columns = TableColumns(
        id="DiseaseID",
        title="DiseaseName",
        description="Definition",
        aliases="Synonyms",
        alt_ids="AltDiseaseIDs",
    )
    name, rows = read(shared_data / "medic" / "CTD_diseases.tsv", options=ReadOptions(columns=columns))
    assert name == "csv" and len(rows) == 11865
    _, umls = read(shared_data / "medic" / "medic.umls.jsonl")
    assert [r.entity.id for r in rows] == [r.entity.id for r in umls]
    assert sum(1 for r in rows if r.entity.description) == 4691
