"""The shipped MiniLM through the whole index/search path (slow: loads the real model)."""

import pytest

from entqa_kit.core.config import EncoderConfig
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import DenseIndex
from entqa_kit.models.encoder import TextEncoder
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def minilm():
    return TextEncoder.load(EncoderConfig())


@pytest.mark.slow
@pytest.mark.default_slow
def test_minilm_defaults_follow_its_sentence_transformers_config(minilm):
    assert (minilm.pooling, minilm.normalize, minilm.dim) == ("mean", True, 384)


@pytest.mark.slow
@pytest.mark.default_slow
def test_minilm_search_resolves_ambiguous_names(tmp_path, minilm):
    build_index(FIXTURES / "kb_native.jsonl", tmp_path, encoder=minilm, quiet=True)
    index = DenseIndex.load(tmp_path, model_fingerprint=minilm.fingerprint)
    queries = [
        "breast carcinoma",
        "a constricting snake",
        "luxury car maker from Britain",
        "airway inflammation",
    ]
    top = [hits[0].id for hits in index.search_hits(minilm.encode_queries(queries), k=5)]
    assert top == ["Q8", "Q7", "Q12", "Q10"]


@pytest.mark.slow
@pytest.mark.data
def test_medic_breast_cancer_in_top5(tmp_path, minilm, shared_data):
    build_index(shared_data / "medic" / "medic.umls.jsonl", tmp_path, encoder=minilm, quiet=True)
    index = DenseIndex.load(tmp_path)
    hits = index.search_hits(minilm.encode_queries(["breast cancer"]), k=5)[0]
    assert "MESH:D001943" in [h.id for h in hits]
