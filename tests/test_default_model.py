"""The shipped default model: what is in the repo, and the commands that use it when --model is absent."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.index.dense import IndexManifest
from entqa_kit.models.default import DEFAULT_MODEL_DIR, default_model_dir
from entqa_kit.models.model_dir import entity_encoder_config, read_model_config
from tests.conftest import FIXTURES

runner = CliRunner()
ROOT = Path(__file__).parents[1]


def test_the_default_model_is_fp16_safetensors_within_100_mb():
    files = [p for p in default_model_dir().rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 100e6
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert {p.name for p in weights} == {"model.safetensors", "heads.safetensors"} and len(weights) == 3
    for path in weights:
        with safe_open(str(path), framework="pt") as handle:
            assert {str(handle.get_slice(k).get_dtype()) for k in handle.keys()} == {"F16"}  # noqa: SIM118
    assert not any(p.suffix in (".bin", ".pt", ".pkl", ".ckpt") for p in files), "safetensors only"


def test_the_default_model_is_the_calibrated_joint_reader_with_its_speed_settings():
    config = read_model_config(DEFAULT_MODEL_DIR)
    assert config.calibration is not None and config.link.threshold == config.calibration.threshold
    assert config.reader.kind == "joint" and config.recipe.name == "aida-joint-cpu"
    assert (config.link.test_k, config.link.test_stride, config.link.test_entity_tokens) == (12, 24, None)
    assert config.entity_encoder.model == "minilm", "a frozen base tower: any KB indexed with MiniLM links"


def test_index_text_options_cannot_change_a_model_tower(tmp_path):
    result = runner.invoke(
        app,
        [
            "index",
            str(FIXTURES / "kb_native.jsonl"),
            "--out",
            str(tmp_path),
            "--model",
            str(DEFAULT_MODEL_DIR),
        ]
        + ["--include-aliases"],
    )
    assert result.exit_code == 1 and "[E040]" in result.output and "--include-aliases" in result.output


@pytest.mark.slow
@pytest.mark.default_slow
def test_index_and_link_without_model_use_the_default(tmp_path):
    index = tmp_path / "idx"
    built = runner.invoke(app, ["index", str(FIXTURES / "kb_native.jsonl"), "--out", str(index), "-q"])
    assert built.exit_code == 0, built.output
    manifest = IndexManifest.read(index)
    assert manifest.encoder == entity_encoder_config(str(DEFAULT_MODEL_DIR)) and manifest.index_type == "flat"
    text = "Jaguar showed a new luxury car, and Paris Hilton drove it through Paris."
    linked = runner.invoke(app, ["link", "-", "--index", str(index), "--json"], input=text)
    assert linked.exit_code == 0, linked.output
    mentions = json.loads(linked.stdout)["mentions"]
    assert mentions and all(text[m["start"] : m["end"]] == m["text"] for m in mentions)
    linked_pairs = {(m["text"], m["entity"]) for m in mentions}
    assert {("Jaguar", "Q12"), ("Paris", "Q1")} <= linked_pairs, "the car maker and the city, by context"


@pytest.mark.slow
@pytest.mark.default_slow
def test_make_demo_links_the_examples_and_writes_the_page():
    done = subprocess.run(
        [sys.executable, "examples/demo.py"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Mentions linked in 5 example documents" in done.stdout
    f1 = float(done.stdout.split("F1 ")[1].split()[0])
    assert f1 >= 50, "the default model links most of the hand-labelled example mentions"
    page = (ROOT / "examples" / "output" / "linked.html").read_text(encoding="utf-8")
    assert page.count('class="mention') >= 50 and "Freddie Mercury" in page
