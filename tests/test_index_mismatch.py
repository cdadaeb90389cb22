"""E031, E033 and E036 name what differs (a setting, the encoder, the KB), not two fingerprints."""

import json

import pytest

from entqa_kit.core.config import EncoderConfig, IndexConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import MANIFEST, DenseIndex
from entqa_kit.models.encoder import TextEncoder
from tests.conftest import FIXTURES, Interrupted, stop_after

KB = FIXTURES / "kb_native.jsonl"


def encoder_like_tiny(tiny_model, **changes) -> TextEncoder:
    settings = {"model": str(tiny_model), "pooling": "mean", "normalize": True, "dtype": "float32"}
    return TextEncoder.load(EncoderConfig(**(settings | changes)))


def test_e031_names_the_setting_that_differs(tiny_index, tiny_model):
    shorter = encoder_like_tiny(tiny_model, max_entity_tokens=32)
    with pytest.raises(EntQAError) as caught:
        DenseIndex.load(tiny_index, model_fingerprint=shorter.fingerprint)
    assert str(caught.value) == (
        f"[E031] {tiny_index}: index was built with a different entity encoder: max_entity_tokens 64 in the "
        f"index, 32 now; rebuild the index for this model ('entqa-kit index {KB} --out NEW_DIR --model "
        "MODEL') or use the model it was built with"
    )


def test_e031_names_another_encoder(tiny_index, other_tiny_model):
    other = TextEncoder.load(
        EncoderConfig(model=str(other_tiny_model), pooling="mean", normalize=True, dtype="float32")
    )
    with pytest.raises(EntQAError) as caught:
        DenseIndex.load(tiny_index, model_fingerprint=other.fingerprint)
    message = str(caught.value)
    assert "different entity encoder: encoder weights (" in message
    assert f"{str(other_tiny_model)!r} now)" in message and "pooling" not in message


def test_e031_on_an_index_without_stored_parts_falls_back_to_its_config(tmp_path, tiny_encoder, tiny_model):
    out = tmp_path / "idx"
    build_index(KB, out, encoder=tiny_encoder, quiet=True)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest.pop("encoder_parts")["max_entity_tokens"] == 64
    (out / MANIFEST).write_text(json.dumps(manifest))
    aliased = encoder_like_tiny(tiny_model, include_aliases=True)
    with pytest.raises(EntQAError) as caught:
        DenseIndex.load(out, model_fingerprint=aliased.fingerprint)
    assert "different entity encoder: include_aliases False in the index, True now;" in str(caught.value)


def test_e036_names_the_kb_file_and_the_setting(tmp_path, tiny_encoder, tiny_model):
    out = tmp_path / "idx"
    build_index(KB, out, encoder=tiny_encoder, quiet=True)
    umls = FIXTURES / "kb_umls.jsonl"
    with pytest.raises(EntQAError) as caught:
        build_index(umls, out, encoder=tiny_encoder, quiet=True)
    assert str(caught.value) == (
        f"[E036] {out}: already holds a complete index of other inputs (KB file content ({KB} then, {umls} "
        "now)); pass --overwrite to replace it or use another --out directory"
    )
    aliased = encoder_like_tiny(tiny_model, include_aliases=True)
    with pytest.raises(EntQAError) as caught:
        build_index(KB, out, encoder=aliased, quiet=True)
    assert "(include_aliases False in the index, True now)" in str(caught.value)
    with pytest.raises(EntQAError) as caught:
        build_index(KB, out, encoder=tiny_encoder, index_config=IndexConfig(index_type="hnsw"), quiet=True)
    assert "(index type 'flat' in the index, 'hnsw' now)" in str(caught.value)


def test_e033_names_the_setting_of_the_unfinished_build(tmp_path, tiny_encoder, tiny_model):
    out = tmp_path / "idx"
    config = IndexConfig(shard_size=6)
    with pytest.raises(Interrupted):
        build_index(KB, out, index_config=config, encoder=tiny_encoder, quiet=True, on_shard=stop_after(0))
    pooled = encoder_like_tiny(tiny_model, pooling="cls")
    with pytest.raises(EntQAError) as caught:
        build_index(KB, out, index_config=config, encoder=pooled, quiet=True)
    assert str(caught.value) == (
        f"[E033] {out}: an unfinished build here used different inputs: pooling 'mean' in the index, 'cls' "
        "now; use another --out directory or pass --overwrite"
    )
