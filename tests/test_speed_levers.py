"""Inference speed levers: each is an explicit reader setting that changes how much the reader reads."""

import numpy as np
import pytest

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document
from entqa_kit.documents import load_documents
from entqa_kit.linking.linker import Linker
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def documents(toy_model):
    linker = Linker.from_pretrained(toy_model[1], toy_model[0])
    return load_documents(FIXTURES / "docs_toy.jsonl", linker.index.kb).documents[:12]


def pairs_read(linker, documents):
    """(passages, pairs) the reader saw while linking ``documents``."""
    seen = {"pairs": 0, "passages": 0}
    original = linker.reading._read_pairs

    def spy(passages, pair_passage, pair_row, batch_size):
        seen["pairs"] += len(pair_row)
        seen["passages"] += len(passages)
        assert len(np.unique(pair_passage)) == len(passages), "every passage keeps its best candidate"
        return original(passages, pair_passage, pair_row, batch_size)

    linker.reading._read_pairs = spy
    linker.link(documents)
    return seen


def test_a_zero_margin_reads_only_each_passages_best_candidate(toy_model, documents):
    everything = pairs_read(Linker.from_pretrained(toy_model[1], toy_model[0], top_k=3), documents)
    best_only = pairs_read(
        Linker.from_pretrained(toy_model[1], toy_model[0], top_k=3, candidate_margin=0.0), documents
    )
    assert everything["pairs"] == 3 * everything["passages"]
    assert best_only["pairs"] == best_only["passages"] == everything["passages"]


def test_a_larger_stride_reads_fewer_passages_and_too_large_is_refused(toy_model, documents):
    long = [Document(id="long", text=" ".join(d.text for d in documents))]
    trained = pairs_read(Linker.from_pretrained(toy_model[1], toy_model[0]), long)
    wider = pairs_read(Linker.from_pretrained(toy_model[1], toy_model[0], test_stride=14), long)
    assert wider["passages"] < trained["passages"]
    with pytest.raises(EntQAError) as caught:
        Linker.from_pretrained(
            toy_model[1], toy_model[0], test_stride=17
        )  # the toy passages are 16 wordpieces
    assert caught.value.code == "E040" and "test_stride" in caught.value.message


def test_entity_tokens_and_int8_change_the_reader_input_and_weights(toy_model, documents):
    short = Linker.from_pretrained(toy_model[1], toy_model[0], test_entity_tokens=4)
    assert max(len(short.entity_tokens[r]) for r in range(len(short.index.kb))) <= 4
    quantized = Linker.from_pretrained(
        index_dir=toy_model[1], model_dir=toy_model[0], quantize="int8", threshold=0.001
    )
    assert (
        "quantized" in type(quantized.reader.model.encoder.encoder.layer[0].attention.self.query).__module__
    )
    results = quantized.link(documents)
    found = {(r.id, m.start, m.end, m.entity) for r in results for m in r.mentions}
    gold = {(d.id, m.start, m.end, m.entities[0]) for d in documents for m in d.mentions if m.in_kb}
    assert found & gold, "the int8 reader still finds gold mentions"
    for result, document in zip(results, documents):
        assert all(document.text[m.start : m.end] == m.text for m in result.mentions)


def test_settings_override_the_saved_ones_and_none_keeps_them(toy_model):
    assert Linker.from_pretrained(toy_model[1], toy_model[0], test_k=2).config.test_k == 2
    assert Linker.from_pretrained(toy_model[1], toy_model[0], top_k=1, test_k=2).config.test_k == 1, (
        "the named argument wins"
    )
    kept = Linker.from_pretrained(toy_model[1], toy_model[0], test_k=None, candidate_margin=None).config
    assert (kept.test_k, kept.candidate_margin) == (3, None)
