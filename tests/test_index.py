import json

import numpy as np
import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.config import EncoderConfig, IndexConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.index.build import PROGRESS, build_index
from entqa_kit.index.dense import DenseIndex, IndexManifest
from entqa_kit.models.encoder import TextEncoder
from tests.conftest import FIXTURES, Interrupted, stop_after

KB = FIXTURES / "kb_native.jsonl"
runner = CliRunner()


def test_manifest_records_what_was_built(tiny_index, tiny_encoder):
    manifest = IndexManifest.read(tiny_index)
    assert (manifest.count, manifest.dim, manifest.index_type) == (20, 32, "flat")
    assert manifest.model_fingerprint == tiny_encoder.fingerprint
    assert set(manifest.versions) == {"entqa_kit", "torch", "transformers", "faiss"}
    vectors = DenseIndex.load(tiny_index).vectors
    assert vectors.dtype == np.float16 and vectors.shape == (20, 32)


def test_search_finds_an_entity_by_its_own_text(tiny_index, tiny_encoder):
    index = DenseIndex.load(tiny_index)
    entities = [index.kb.by_row(r) for r in (0, 7, 17)]
    queries = tiny_encoder.encode(tiny_encoder.entity_texts(entities), tiny_encoder.config.max_entity_tokens)
    hits = index.search_hits(queries, k=3)
    assert [h[0].id for h in hits] == ["Q1", "Q8", "Q18"]
    assert all(h[0].score > h[1].score for h in hits)


def test_resume_after_interruption_matches_uninterrupted_build(tmp_path, tiny_encoder):
    config = IndexConfig(shard_size=6)
    whole = tmp_path / "whole"
    build_index(KB, whole, index_config=config, encoder=tiny_encoder, quiet=True)

    resumed = tmp_path / "resumed"
    with pytest.raises(Interrupted):
        build_index(
            KB, resumed, index_config=config, encoder=tiny_encoder, quiet=True, on_shard=stop_after(1)
        )
    assert not (resumed / "manifest.json").exists()
    assert json.loads((resumed / PROGRESS).read_text())["shards_done"] == 2
    with pytest.raises(EntQAError) as caught:
        DenseIndex.load(resumed)
    assert caught.value.code == "E032"  # half built: "rerun to resume", not "not an index"

    encoded_shards = []
    result = build_index(
        KB, resumed, index_config=config, encoder=tiny_encoder, quiet=True, on_shard=encoded_shards.append
    )
    assert encoded_shards == [2, 3], "only the unfinished shards are encoded again"
    assert result.resumed_from == 12 and result.encoded == 8
    assert (whole / "vectors.f16").read_bytes() == (resumed / "vectors.f16").read_bytes()
    assert not (resumed / "faiss.index").exists(), "flat search scans the memmap; no faiss copy"
    assert not (resumed / PROGRESS).exists()


def test_rerun_of_a_complete_build_reuses_it(tmp_path, tiny_encoder):
    out = tmp_path / "idx"
    build_index(KB, out, encoder=tiny_encoder, quiet=True)
    again = build_index(KB, out, encoder=tiny_encoder, quiet=True)
    assert again.reused and again.encoded == 0


def test_load_refuses_another_model_fingerprint(tiny_index):
    with pytest.raises(EntQAError) as caught:
        DenseIndex.load(tiny_index, model_fingerprint="0123456789abcdef")
    assert caught.value.code == "E031"
    assert "different entity encoder: encoder weights or tokenizer (fingerprint " in str(caught.value)
    assert "!= 0123456789abcdef)" in str(caught.value)


def test_load_refuses_another_kb_fingerprint(tiny_index):
    with pytest.raises(EntQAError) as caught:
        DenseIndex.load(tiny_index, kb_fingerprint="ffffffffffffffff")
    assert caught.value.code == "E031" and "different KB" in str(caught.value)


def test_search_refuses_an_index_whose_model_changed(tmp_path, tiny_model, other_tiny_model):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    out = tmp_path / "idx"
    build_index(KB, out, encoder_config=EncoderConfig(model=str(model)), quiet=True)
    shutil.copy(other_tiny_model / "model.safetensors", model / "model.safetensors")
    result = runner.invoke(app, ["search", str(out), "paris"])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"error: [E031] {out}: index was built with a different entity encoder: the encoder weights of "
        f"{str(model)!r} changed since the build; rebuild the index for this model ('entqa-kit index "
    )


def test_unfinished_build_with_another_model_is_refused(tmp_path, tiny_encoder, other_tiny_model):
    out = tmp_path / "idx"
    config = IndexConfig(shard_size=6)
    with pytest.raises(Interrupted):
        build_index(KB, out, index_config=config, encoder=tiny_encoder, quiet=True, on_shard=stop_after(0))
    other = TextEncoder.load(EncoderConfig(model=str(other_tiny_model)))
    with pytest.raises(EntQAError) as caught:
        build_index(KB, out, index_config=config, encoder=other, quiet=True)
    assert str(caught.value) == (
        f"[E033] {out}: an unfinished build here used different inputs: encoder weights "
        f"({str(tiny_encoder.config.model)!r} in the index, {str(other_tiny_model)!r} now); "
        "pooling 'mean' in the index, 'cls' now; normalize True in the index, False now; "
        "use another --out directory or pass --overwrite"
    )
    result = build_index(KB, out, index_config=config, encoder=other, quiet=True, overwrite=True)
    assert result.resumed_from == 0 and result.count == 20


def test_complete_index_of_another_kb_needs_overwrite(tmp_path, tiny_encoder):
    out = tmp_path / "idx"
    build_index(KB, out, encoder=tiny_encoder, quiet=True)
    with pytest.raises(EntQAError) as caught:
        build_index(FIXTURES / "kb_umls.jsonl", out, encoder=tiny_encoder, quiet=True)
    assert caught.value.code == "E036"
    result = build_index(FIXTURES / "kb_umls.jsonl", out, encoder=tiny_encoder, quiet=True, overwrite=True)
    assert result.count == 3
    assert DenseIndex.load(out).kb.by_row(0).id == "MESH:D001943"


@pytest.mark.parametrize("index_type", ["hnsw", "ivfpq"])
def test_other_index_types_search(tmp_path, tiny_encoder, index_type):
    out = tmp_path / index_type
    build_index(KB, out, index_config=IndexConfig(index_type=index_type), encoder=tiny_encoder, quiet=True)
    index = DenseIndex.load(out)
    assert index.manifest.index_type == index_type
    queries = tiny_encoder.encode(tiny_encoder.entity_texts([index.kb.by_row(4)]), 64)
    hits = index.search_hits(queries, k=5)[0]
    assert len(hits) == 5
    assert hits[0].id == "Q5", "ivfpq rescores its candidates exactly, so the entity itself comes first"


def test_auto_index_type_follows_kb_size(tmp_path, tiny_encoder):
    small = build_index(KB, tmp_path / "small", encoder=tiny_encoder, quiet=True)
    config = IndexConfig(auto_flat_max=5)
    large = build_index(KB, tmp_path / "large", index_config=config, encoder=tiny_encoder, quiet=True)
    assert (small.index_type, large.index_type) == ("flat", "ivfpq")
    assert DenseIndex.load(tmp_path / "large").manifest.index_type == "ivfpq"


def test_exact_chunked_search_matches_brute_force(monkeypatch):
    import entqa_kit.index.dense as index_module

    monkeypatch.setattr(index_module, "_SCAN_CHUNK", 7)  # many chunks, some smaller than k
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((50, 8)).astype(np.float16)
    queries = rng.standard_normal((4, 8)).astype(np.float32)
    scores, rows = index_module.exact_search(vectors, queries, k=10)
    brute = queries @ vectors.astype(np.float32).T
    expected = np.argsort(-brute, axis=1, kind="stable")[:, :10]
    assert (rows == expected).all()
    assert np.allclose(scores, np.take_along_axis(brute, expected, axis=1), atol=1e-5)
    rescored, rerows = index_module.rescore(vectors, queries, rows[:, ::-1].copy(), k=3)
    assert (rerows == expected[:, :3]).all() and np.allclose(rescored, scores[:, :3], atol=1e-5)


def test_cli_index_and_search(tmp_path, tiny_model):
    out = tmp_path / "idx"
    result = runner.invoke(
        app,
        [
            "index",
            str(FIXTURES / "kb_umls.jsonl"),
            "--out",
            str(out),
            "--model",
            str(tiny_model),
            "--dtype",
            "float32",
            "--pooling",
            "mean",
            "--json",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 3
    result = runner.invoke(app, ["search", str(out), "breast cancer", "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and set(hits[0]) == {"id", "title", "score"}
    # the expected ranking, by brute force over the KB with a freshly loaded encoder (a random BERT's
    # CLS vectors are all alike, so the index uses mean pooling: the three scores are ~0.7 apart)
    encoder = TextEncoder.load(EncoderConfig(model=str(tiny_model), dtype="float32", pooling="mean"))
    entities = list(DenseIndex.load(out).kb.by_rows([0, 1, 2]))
    scores = encoder.encode_entities(entities) @ encoder.encode_queries(["breast cancer"])[0]
    expected = [entities[i].id for i in np.argsort(-scores)[:2]]
    assert [h["id"] for h in hits] == expected
    assert [h["score"] for h in hits] == pytest.approx(sorted(scores, reverse=True)[:2], abs=1e-2)
    table = runner.invoke(app, ["search", str(out), "breast cancer", "-k", "3"])
    assert table.exit_code == 0 and "Breast Neoplasms" in table.stdout and "rank" in table.stdout


def test_search_on_a_directory_that_is_not_an_index(tmp_path):
    result = runner.invoke(app, ["search", str(tmp_path), "x"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E030] {tmp_path}: not an index directory")
