"""The OBO adapter in examples/custom_adapter, loaded by path as a plug-in would be."""

import importlib.util
import sys
from pathlib import Path

import pytest

from entqa_kit.core.errors import EntQAError
from kb_adapters.base import BadRowLog, KBAdapter, ReadOptions
from kb_adapters.registry import ENTRY_POINT_GROUP

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_adapter"


@pytest.fixture(scope="module")
def obo():
    spec = importlib.util.spec_from_file_location("entqa_obo_adapter", EXAMPLE / "entqa_obo_adapter.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def read(adapter, path: Path, skip_bad: bool = False):
    bad = BadRowLog(skip_bad)
    return list(adapter.read(path, ReadOptions(), bad)), bad


def test_adapter_follows_the_protocol(obo):
    adapter = obo.OboAdapter()
    assert isinstance(adapter, KBAdapter)
    assert adapter.name == "obo" and adapter.extensions == (".obo",)
    assert adapter.sniff({"id": "X", "title": "Y"}) is False


def test_pyproject_registers_the_entry_point():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "entqa-kit-obo-adapter"
    assert project["entry-points"][ENTRY_POINT_GROUP] == {"obo": "entqa_obo_adapter:OboAdapter"}


def test_reads_the_example_terms(obo):
    rows, bad = read(obo.OboAdapter(), EXAMPLE / "example.obo")
    assert len(bad) == 0
    assert [r.entity.id for r in rows] == ["EXD:0001", "EXD:0002", "EXD:0003", "EXD:0005"]
    assert [r.line for r in rows] == [6, 13, 22, 36]
    assert [r.entity.title for r in rows] == ["cancer", "breast cancer", "cystic fibrosis", "asthma"]

    cancer, breast, cf, asthma = (r.entity for r in rows)
    assert cancer.description == (
        "A disease in which abnormal cells divide without control and can spread to other tissues."
    )
    assert cancer.aliases == ("malignant neoplasm",), "BROAD synonyms are left out"
    assert breast.description.startswith("A cancer that starts in the tissue of the breast")
    assert breast.aliases == ("breast carcinoma", "mammary cancer"), "RELATED synonyms are left out"
    assert cf.description == (
        'An inherited disorder caused by variants in the "CFTR" gene, in which thick mucus clogs the lungs.'
    )
    assert cf.aliases == ("CF", "mucoviscidosis")
    assert asthma.title == "asthma", "the trailing ! comment is dropped"
    assert asthma.description == ""
    assert asthma.aliases == ("bronchial asthma",)
    assert all(r.entity.types == () for r in rows)


def test_obsolete_terms_and_other_stanzas_are_skipped(obo):
    rows, _ = read(obo.OboAdapter(), EXAMPLE / "example.obo")
    ids = {r.entity.id for r in rows}
    assert "EXD:0004" not in ids, "is_obsolete: true"
    assert "part_of" not in ids, "[Typedef] stanzas are not entities"


NAMELESS = """format-version: 1.2

[Term]
id: EXD:0001
name: fine

[Term]
id: EXD:0002
def: "A term that forgot its name." []

[Term]
id: EXD:0003
name: also fine
"""


def test_term_without_a_name_raises_e006_with_its_line(obo, tmp_path):
    path = tmp_path / "nameless.obo"
    path.write_text(NAMELESS, encoding="utf-8")
    with pytest.raises(EntQAError) as caught:
        read(obo.OboAdapter(), path)
    assert caught.value.code == "E006"
    assert caught.value.line == 7
    assert caught.value.fields["field"] == "name"
    assert str(caught.value).startswith(f"[E006] {path}:7:")


def test_term_without_a_name_is_skipped_with_skip_bad(obo, tmp_path):
    path = tmp_path / "nameless.obo"
    path.write_text(NAMELESS, encoding="utf-8")
    rows, bad = read(obo.OboAdapter(), path, skip_bad=True)
    assert [r.entity.id for r in rows] == ["EXD:0001", "EXD:0003"]
    assert [r.line for r in rows] == [3, 11]
    assert [(row.line, row.code) for row in bad.rows] == [(7, "E006")]


def test_missing_file_is_e001(obo, tmp_path):
    with pytest.raises(EntQAError) as caught:
        read(obo.OboAdapter(), tmp_path / "absent.obo")
    assert caught.value.code == "E001"


@pytest.mark.parametrize("content", ["", "format-version: 1.2\n", "[Typedef]\nid: part_of\nname: part of\n"])
def test_file_without_terms_is_e002(obo, tmp_path, content):
    path = tmp_path / "empty.obo"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EntQAError) as caught:
        read(obo.OboAdapter(), path)
    assert caught.value.code == "E002"
