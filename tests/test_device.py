"""--device: cpu by default, auto picks what torch sees, cuda without a GPU is one coded error;
the torch flat search equals the numpy one; train --nproc launches torchrun with the same command."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.device import resolve_device
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES

runner = CliRunner()
torch = pytest.importorskip("torch")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")


@no_gpu
def test_auto_picks_the_cpu_without_a_gpu():
    assert resolve_device("auto") == "cpu"
    assert resolve_device(None) == resolve_device("cpu") == "cpu"


@no_gpu
@pytest.mark.parametrize("command", ["index", "link", "train"])
def test_cuda_without_a_gpu_is_one_coded_error(tmp_path, tiny_index, command):
    args = {
        "index": ["index", str(FIXTURES / "kb_native.jsonl"), "--out", str(tmp_path / "idx")],
        "link": ["link", str(FIXTURES / "docs_toy.jsonl"), "--index", str(tiny_index)],
        "train": ["train", "--recipe", str(tmp_path / "r.toml"), "--out", str(tmp_path / "m")],
    }[command]
    result = runner.invoke(app, [*args, "--device", "cuda"])
    assert result.exit_code == 1
    build = "a CPU-only build" if torch.version.cuda is None else f"(CUDA {torch.version.cuda}) sees no GPU"
    assert result.stderr.strip() == (
        f"error: [E140] --device cuda was asked for, but torch {torch.__version__} "
        f"{'is ' if torch.version.cuda is None else ''}{build}; install torch's CUDA build "
        "(README, 'Scaling out') or pass --device cpu"
    )
    assert not (tmp_path / "idx").exists() and not (tmp_path / "m").exists()


def test_an_unknown_device_is_refused():
    with pytest.raises(EntQAError) as caught:
        resolve_device("tpu")
    assert caught.value.message == "[E041] --device must be auto, cpu or cuda, got 'tpu'; fix the value"


def test_torch_search_equals_the_numpy_scan():
    from entqa_kit.index.dense import exact_search
    from entqa_kit.index.gpu_search import torch_exact_search

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((1000, 16)).astype(np.float16)
    queries = rng.standard_normal((5, 16)).astype(np.float32)
    scores, rows = exact_search(vectors, queries, 7)
    # chunks of 300 rows exercise the running top-k merge
    got_scores, got_rows = torch_exact_search(torch.from_numpy(vectors), queries, 7, chunk=300)
    assert rows.shape == (5, 7)
    assert (got_rows == rows).all()
    np.testing.assert_allclose(got_scores, scores, rtol=1e-5, atol=1e-5)


def test_train_nproc_runs_the_same_command_under_torchrun(tmp_path, monkeypatch):
    import subprocess

    calls = []

    def fake_run(command, env, check):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 3)

    monkeypatch.setattr(subprocess, "run", fake_run)
    recipe = tmp_path / "r.toml"
    args = ["train", "--recipe", str(recipe), "--out", str(tmp_path / "m"), "--nproc", "2", "--set", "a.b=1"]
    result = runner.invoke(app, [*args, "--resume", "-q"])
    assert len(calls) == 1
    command, env = calls[0]
    assert command[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m"]
    assert command[6:] == [
        "entqa_kit", "train", "--recipe", str(recipe), "--out", str(tmp_path / "m"), "--stage", "all",
        "--device", "cpu", "--set", "a.b=1", "--resume", "--quiet",
    ]  # fmt: skip
    assert int(env["OMP_NUM_THREADS"]) >= 1
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: [E145] distributed training with 2 processes failed (exit code 3); the rank logs are above; "
        "rerun with --resume to continue from the last epoch"
    )


def _reader_batch(tokenizer):
    from entqa_kit.core.records import Passage
    from entqa_kit.reading.joint import batch_layouts, joint_layout, marker_token_ids
    from entqa_kit.reading.pair import build_inputs

    passages = [
        Passage(document_id="d", index=0, token_ids=(1996, 2158, 2001), offsets=((0, 3), (4, 7), (8, 11))),
        Passage(document_id="d", index=1, token_ids=(3000,), offsets=((0, 4),), topic_ids=(4715,)),
    ]
    pair = build_inputs(passages, [[3001, 3002], [3003]], tokenizer)
    markers = marker_token_ids(tokenizer, 3)
    layouts = [joint_layout(p, [[3001, 3002], [3003]], markers, tokenizer) for p in passages]
    return pair, batch_layouts(layouts, tokenizer.pad_token_id or 0)


def test_reader_inputs_moved_to_the_cpu_keep_their_tensors(tiny_encoder):
    import dataclasses

    for inputs in _reader_batch(tiny_encoder.tokenizer):
        moved = inputs.to("cpu")
        assert type(moved) is type(inputs)
        for field in dataclasses.fields(inputs):
            before, after = getattr(inputs, field.name), getattr(moved, field.name)
            assert after.device.type == "cpu" and after.dtype == before.dtype
            assert torch.equal(after, before), field.name


@pytest.mark.parametrize("kind", ["pair", "joint"])
def test_a_reader_loaded_for_the_cpu_reads_as_before(tmp_path, tiny_model, kind):
    """On the CPU the reader reads exactly as before its inputs were moved to its device: the same
    tensors under the same bf16 autocast (``torch.autocast("cpu", ...)``)."""
    from entqa_kit.core.config import ReaderConfig
    from entqa_kit.core.device import autocast, select_device
    from entqa_kit.reading.reader_io import ReaderBundle, load_reader, save_reader

    select_device("cpu")
    config = ReaderConfig(kind=kind, model=str(tiny_model))
    torch.manual_seed(0)
    save_reader(ReaderBundle.create(str(tiny_model), "bfloat16", config), tmp_path)
    reader = load_reader(tmp_path, "bfloat16", config)
    assert reader.device == "cpu"
    pair, joint = _reader_batch(reader.tokenizer)
    inputs = pair if kind == "pair" else joint
    run = reader.model if kind == "pair" else reader.model.hidden_states
    with torch.inference_mode():
        with torch.autocast("cpu", dtype=torch.bfloat16):  # the reading code before devices
            before = run(inputs)
        with autocast(reader.device, enabled=reader.compute_dtype == "bfloat16"):
            now = run(inputs.to(reader.device))
    for old, new in zip(before if kind == "pair" else [before], now if kind == "pair" else [now]):
        assert torch.equal(old, new)


def test_faiss_gpu_placement():
    from entqa_kit.index.faiss_gpu import placement

    assert placement("ivfpq", "cpu", 1) == ("cpu", None)
    assert placement("flat", "cuda", 1) == ("cpu", None), "flat indexes are searched with torch"
    assert placement("ivfpq", "cuda", 1) == ("gpu", None)
    assert placement("ivfpq", "cuda:1", 2) == ("gpu", None)
    where, warning = placement("ivfpq", "cuda", 0)
    assert where == "cpu" and warning == (
        "faiss sees no GPU (faiss-cpu?), so this ivfpq index is searched on the CPU; install faiss-gpu in "
        "place of faiss-cpu (README, 'Scaling out')"
    )
    where, warning = placement("hnsw", "cuda", 1)
    assert where == "cpu" and warning == (
        "faiss has no GPU version of hnsw, so this hnsw index is searched on the CPU"
    )


@pytest.mark.parametrize("index_type", ["ivfpq", "hnsw"])
def test_cuda_search_without_faiss_gpus_stays_on_the_cpu_after_one_warning(
    tmp_path, tiny_encoder, monkeypatch, capsys, index_type
):
    import faiss

    import entqa_kit.index.dense as dense
    from entqa_kit.core.config import IndexConfig
    from entqa_kit.index.build import build_index

    out = tmp_path / index_type
    build_index(FIXTURES / "kb_native.jsonl", out, index_config=IndexConfig(index_type=index_type),
                encoder=tiny_encoder, quiet=True)  # fmt: skip
    index = dense.DenseIndex.load(out)
    queries = tiny_encoder.encode(tiny_encoder.entity_texts([index.kb.by_row(1)]), 64)
    on_cpu = index.search(queries, 3)
    capsys.readouterr()
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 0)
    monkeypatch.setattr(dense, "current_device", lambda: "cuda")  # no torch call: faiss decides
    for _ in range(2):
        scores, rows = index.search(queries, 3)
        assert (rows == on_cpu[1]).all() and np.array_equal(scores, on_cpu[0])
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: faiss ")
    assert f"this {index_type} index is searched on the CPU" in warnings[0]
