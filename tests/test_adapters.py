from pathlib import Path

import pytest

from entqa_kit.core.errors import EntQAError
from kb_adapters.base import BadRowLog, ReadOptions, TableColumns
from kb_adapters.registry import ENTRY_POINT_GROUP, available_adapters, get_adapter
from tests.conftest import FIXTURES


def test_native_jsonl(read_kb):
    name, rows = read_kb(FIXTURES / "kb_native.jsonl")
    assert name == "jsonl"
    assert len(rows) == 20
    first = rows[0]
    assert first.line == 1
    assert first.entity.id == "Q1" and first.entity.title == "Paris"
    assert first.entity.aliases == ("City of Light",)
    assert rows[18].entity.aliases == ("東京",)


def test_kilt_drops_title_paragraph_and_joins_the_rest(read_kb):
    name, rows = read_kb(FIXTURES / "kb_kilt.jsonl")
    assert name == "kilt"
    assert rows[0].entity.id == "0"
    assert rows[0].entity.title == "Paris"
    assert rows[0].entity.description == "Capital and largest city of France. Second paragraph."
    assert rows[-1].entity.title == "Title Only" and rows[-1].entity.description == ""


def test_umls_jsonl_keeps_alt_ids(read_kb):
    name, rows = read_kb(FIXTURES / "kb_umls.jsonl")
    assert name == "umls"
    breast = rows[0].entity
    assert breast.id == "MESH:D001943" and breast.title == "Breast Neoplasms"
    assert breast.aliases == ("Breast Cancer", "Breast Tumor")
    assert breast.alt_ids == ("DO:DOID:1612",)
    assert breast.description.startswith("Tumors")
    assert rows[1].entity.alt_ids == ()


def test_csv_with_conventional_columns(read_kb):
    name, rows = read_kb(FIXTURES / "kb_table.csv")
    assert name == "csv"
    assert [r.line for r in rows[:2]] == [2, 3]
    assert rows[0].entity.aliases == ("City of Light",)
    assert rows[2].entity.aliases == ()


def test_tsv_with_header_in_comment_block_like_ctd_medic(read_kb):
    columns = TableColumns(
        id="DiseaseID",
        title="DiseaseName",
        description="Definition",
        aliases="Synonyms",
        alt_ids="AltDiseaseIDs",
    )
    name, rows = read_kb(FIXTURES / "kb_ctd_style.tsv", options=ReadOptions(columns=columns))
    assert name == "csv"
    assert [r.line for r in rows] == [6, 7]
    assert rows[0].entity.id == "MESH:D001943"
    assert rows[0].entity.alt_ids == ("DO:DOID:1612",)
    assert rows[1].entity.aliases == ("Mucoviscidosis", '"CF"'), "TSV cells are taken literally"


def test_csv_names_a_missing_column(read_kb):
    with pytest.raises(EntQAError) as caught:
        read_kb(FIXTURES / "kb_table.csv", options=ReadOptions(columns=TableColumns(title="name")))
    assert caught.value.code == "E013"
    assert "'name'" in str(caught.value) and "--title-col" in str(caught.value)


def test_explicit_format_overrides_detection(read_kb):
    name, rows = read_kb(FIXTURES / "kb_umls.jsonl", fmt="umls")
    assert name == "umls" and len(rows) == 3


def test_unknown_format_lists_known_ones():
    with pytest.raises(EntQAError) as caught:
        get_adapter(FIXTURES / "kb_native.jsonl", "xml")
    assert caught.value.code == "E011"
    assert "kilt" in str(caught.value)


def test_undetectable_extension(tmp_path):
    path = tmp_path / "kb.xml"
    path.write_text("<kb/>\n")
    with pytest.raises(EntQAError) as caught:
        get_adapter(path)
    assert caught.value.code == "E012"


def test_adapters_stream_lazily(tmp_path):
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        handle.write('{"id": "a", "title": "A"}\n')
        handle.write("not json\n")
    stream = get_adapter(path).read(path, ReadOptions(), BadRowLog(False))
    assert next(stream).entity.id == "a", "the first record arrives before the bad line is read"
    with pytest.raises(EntQAError):
        next(stream)


class _ToyAdapter:
    name = "toy"
    extensions = (".toy",)

    def sniff(self, first_record):
        return False

    def read(self, path, options, bad):
        return iter(())


def test_entry_point_adapters_are_registered(monkeypatch):
    import entqa_kit.kb.registry as registry

    class FakePoint:
        name = "toy"

        def load(self):
            return _ToyAdapter

    def fake_entry_points(group):
        assert group == ENTRY_POINT_GROUP
        return [FakePoint()]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    available_adapters.cache_clear()
    try:
        assert "toy" in available_adapters()
        assert get_adapter(Path(__file__), "toy").name == "toy"
    finally:
        available_adapters.cache_clear()


def test_builtin_adapters_are_declared_as_entry_points():
    from importlib.metadata import entry_points

    names = {point.name for point in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"kilt", "umls", "jsonl", "csv"} <= names
