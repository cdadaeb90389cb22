"""Training on two processes (torchrun, gloo) equals one process on the whole batch; rank 0 alone writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).parent / "ddp_worker.py"


def _run(command: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_processes_equal_one_process_on_the_whole_batch(tmp_path, tiny_model):
    from safetensors.torch import load_file

    single, double = tmp_path / "single", tmp_path / "double"
    _run([sys.executable, str(WORKER), str(tiny_model), str(single)], tmp_path)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    _run([*torchrun, str(WORKER), str(tiny_model), str(double)], tmp_path)

    one, two = load_file(str(single / "params.safetensors")), load_file(str(double / "params.safetensors"))
    start = load_file(str(tiny_model / "model.safetensors"))
    assert one.keys() == two.keys() and len(one) > 10
    moved = [k for k in one if not (one[k] == start.get("bert." + k, start.get(k, one[k] * 0))).all()]
    assert moved, "training changed no parameter"
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    assert worst < 1e-4, f"2 processes differ from 1 by up to {worst}"
    # the loss history is the whole batch's on both (rank 0 reports the ranks' weighted sum)
    assert (single / "history.txt").read_text() != "" and (double / "history.txt").read_text() != ""
    losses_one = eval((single / "history.txt").read_text())  # noqa: S307 - our own repr of a list of dicts
    losses_two = eval((double / "history.txt").read_text())  # noqa: S307
    assert [round(h["loss"], 3) for h in losses_one] == [round(h["loss"], 3) for h in losses_two]

    # rank 0 alone wrote checkpoints and the best weights; rank 1 wrote nothing
    assert (double / "rank0" / "best.txt").is_file()
    assert (double / "rank0" / "checkpoints" / "toy" / "state.json").is_file()
    assert sorted(p.name for p in (double / "rank1").rglob("*")) == []


@pytest.mark.slow
def test_train_nproc_2_trains_both_stages_and_prints_once(tmp_path, tiny_model, write_recipe):
    import json

    recipe = write_recipe(tmp_path, tiny_model, tmp_path / "index", epochs=1)
    settings = ["retriever.epochs=1", f"reader.model={tiny_model}", "reader.epochs=1", "reader.train_k=3"]
    settings += ["reader.test_k=3", "reader.batch_size=4", "reader.dtype=float32"]
    command = [
        sys.executable,
        "-m",
        "entqa_kit",
        "train",
        "--recipe",
        str(recipe),
        "--out",
        str(tmp_path / "m"),
    ]
    command += [a for s in settings for a in ("--set", s)] + ["--nproc", "2", "-q", "--json"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, "rank 0 alone prints"
    assert json.loads(lines[0])["best_epoch"] == 1
    assert (tmp_path / "m" / "entqa_config.json").is_file()
    assert (tmp_path / "m" / "checkpoints" / "reader-last" / "state.json").is_file()
