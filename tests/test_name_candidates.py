"""Candidates from the KB's names join the dense top-K (a link setting); the reader still decides."""

from __future__ import annotations

import numpy as np


def test_name_matches_join_the_dense_candidates(toy_model):
    from entqa_kit.linking.linker import Linker

    model_dir, index_dir = toy_model
    text = "Yesterday we read about Paris, Berlin and Tokyo in the news."
    seen = {}
    for mode in ("dense", "dense+names"):
        linker = Linker.from_pretrained(index_dir, model_dir, top_k=1, candidates=mode)
        original = linker.reading.spans

        def spy(passages, rows, read, batch_size, profile, original=original, mode=mode):
            seen[mode] = {int(r) for r, ok in zip(rows.reshape(-1), read.reshape(-1)) if ok}
            return original(passages, rows, read, batch_size, profile)

        linker.reading.spans = spy
        linker.link([text])
    kb = linker.index.kb
    named = {kb.row_of(i) for i in ("Q1", "Q3")}  # Paris, Berlin: titles of the toy KB
    assert named - seen["dense"], "the test needs a name the dense top-1 misses"
    assert named <= seen["dense+names"] and seen["dense"] <= seen["dense+names"]
    assert len(seen["dense+names"]) > len(seen["dense"])


def test_the_setting_is_saved_and_overridable(toy_model):
    from entqa_kit.linking.linker import Linker

    model_dir, index_dir = toy_model
    assert Linker.from_pretrained(index_dir, model_dir).config.candidates == "dense"
    assert Linker.from_pretrained(index_dir, model_dir, candidates="dense+names").config.candidates == (
        "dense+names"
    )
    assert np.isfinite(Linker.from_pretrained(index_dir, model_dir).config.threshold)
