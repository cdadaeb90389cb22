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
