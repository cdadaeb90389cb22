"""Damaged or half-written state: manifests, KB stores, model configs, build progress,
training checkpoints, sidecars, and a KB adapter plug-in that fails to load.

Part of the bad-input classes listed in tests/README.md."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES, evaluate_cli, native, one_error, run_index

runner = CliRunner()


# 5. damaged state files: manifest, model config, build progress, training state


@pytest.mark.parametrize("content", ["", "{not json", '{"dim": 32}'])
def test_damaged_manifest_in_search(tmp_path, index_copy, content):
    (index_copy / "manifest.json").write_text(content)
    message = one_error(runner.invoke(app, ["search", str(index_copy), "Paris"]), "E035", f"{index_copy}:")
    assert "manifest.json is unreadable" in message and "--overwrite" in message


def test_damaged_manifest_in_index_and_overwrite_recovers(tmp_path, tiny_model):
    out = tmp_path / "idx"
    kb = FIXTURES / "kb_native.jsonl"
    assert run_index(kb, out, tiny_model).exit_code == 0
    (out / "manifest.json").write_text("")
    one_error(run_index(kb, out, tiny_model), "E035", f"{out}:")
    result = run_index(kb, out, tiny_model, "--overwrite")
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["search", str(out), "Paris"]).exit_code == 0


def test_damaged_kb_store(index_copy):
    (index_copy / "kb.sqlite").write_bytes(b"not a database at all" * 100)
    message = one_error(runner.invoke(app, ["search", str(index_copy), "Paris"]), "E035")
    assert "kb.sqlite" in message


def test_damaged_model_config(tmp_path, tiny_model):
    model = tmp_path / "model"
    model.mkdir()
    (model / "entqa_config.json").write_text('{"format_version": 1, "vers')
    config = model / "entqa_config.json"
    result = run_index(FIXTURES / "kb_native.jsonl", tmp_path / "idx", model)
    message = one_error(result, "E074", f"{config}: the model configuration is damaged")
    assert "Invalid JSON" in message


def test_damaged_build_progress_restarts_the_build(tmp_path, tiny_encoder):
    from entqa_kit.index.build import build_index

    out = tmp_path / "idx"
    kb = FIXTURES / "kb_native.jsonl"
    calls = []

    def stop(shard):
        calls.append(shard)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(kb, out, encoder=tiny_encoder, quiet=True, on_shard=stop)
    (out / "progress.json").write_text("{trunc")
    result = build_index(kb, out, encoder=tiny_encoder, quiet=True)
    assert calls == [0] and result.resumed_from == 0 and result.count == 20


def test_damaged_training_checkpoint(tmp_path):
    import torch

    from entqa_kit.training.checkpoint import LAST, load_checkpoint, save_checkpoint

    module = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    final = save_checkpoint(tmp_path, {"m": module}, optimizer, {"epochs_done": 1})
    (final / "state.json").write_text("{")
    with pytest.raises(EntQAError) as caught:
        load_checkpoint(tmp_path, {"m": module}, optimizer)
    assert caught.value.code == "E075" and str(tmp_path / LAST) in caught.value.message


def test_damaged_sentence_transformers_modules_file(tmp_path, tiny_model):
    model = tmp_path / "enc"
    shutil.copytree(tiny_model, model)
    (model / "modules.json").write_text("[{")
    one_error(run_index(FIXTURES / "kb_native.jsonl", tmp_path / "idx", model), "E021")


# 11-12. half-built indexes and the skipped-rows sidecar


def test_search_on_a_half_built_index_says_resume(tmp_path, tiny_encoder):
    from entqa_kit.index.build import build_index

    out = tmp_path / "idx"

    def stop(shard):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(FIXTURES / "kb_native.jsonl", out, encoder=tiny_encoder, quiet=True, on_shard=stop)
    message = one_error(runner.invoke(app, ["search", str(out), "Paris"]), "E032", f"{out}:")
    assert "entities encoded" in message and "rerun the same 'entqa-kit index' command" in message


def test_clean_overwrite_removes_an_old_sidecar(tmp_path, tiny_model):
    out = tmp_path / "idx"
    kb = tmp_path / "kb.jsonl"
    kb.write_text(native(1) + "{bad\n" + native(3))
    assert run_index(kb, out, tiny_model, "--skip-bad").exit_code == 0
    assert (out / "skipped_rows.jsonl").is_file()
    kb.write_text(native(1) + native(2) + native(3))
    result = run_index(kb, out, tiny_model, "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (out / "skipped_rows.jsonl").exists()


def test_a_refused_skip_bad_run_leaves_the_other_index_alone(tmp_path, tiny_model):
    out = tmp_path / "idx"
    assert run_index(FIXTURES / "kb_native.jsonl", out, tiny_model).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    kb = tmp_path / "kb.jsonl"
    kb.write_text(native(1) + "{bad\n")
    one_error(run_index(kb, out, tiny_model, "--skip-bad"), "E036", f"{out}:")
    kb.write_text("{bad\n{worse\n")
    one_error(run_index(kb, out, tiny_model, "--skip-bad"), "E111", f"{kb}:")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# 13. the "--skip-bad" hint only where the command has the option


def test_skip_bad_hint_only_for_commands_that_have_it(tmp_path, tiny_model, tiny_index):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(native(1) + "{bad\n")
    assert "or pass --skip-bad" in one_error(run_index(kb, tmp_path / "idx", tiny_model), "E004")
    preds = tmp_path / "pred.jsonl"
    preds.write_text("{bad\n")
    result = evaluate_cli(FIXTURES / "docs_toy.jsonl", tiny_index, preds)
    message = one_error(result, "E004", f"{preds}:1:")
    assert message.endswith("fix the line")


# 15. a KB adapter plug-in that fails to load


def test_a_broken_plugin_is_e016_and_the_built_ins_still_work(monkeypatch, tmp_path):
    from importlib.metadata import EntryPoint

    from entqa_kit.kb import registry

    real = registry.entry_points

    class Broken(EntryPoint):
        def load(self):
            raise ImportError("No module named 'entqa_owl'")

    broken = Broken(name="owl", value="entqa_owl:OwlAdapter", group=registry.ENTRY_POINT_GROUP)

    def with_broken(group):
        return [*real(group=group), broken]

    monkeypatch.setattr(registry, "entry_points", with_broken)
    registry.available_adapters.cache_clear()
    try:
        assert {"jsonl", "kilt", "umls", "csv"} <= set(registry.available_adapters())
        assert registry.get_adapter(FIXTURES / "kb_native.jsonl").name == "jsonl"
        with pytest.raises(EntQAError) as caught:
            registry.get_adapter(tmp_path / "kb.owl", "owl")
        assert caught.value.message.startswith(
            "[E016] KB adapter plug-in 'owl' (entqa_owl:OwlAdapter) failed to load "
            "(ImportError: No module named 'entqa_owl')"
        )
    finally:
        monkeypatch.undo()
        registry.available_adapters.cache_clear()


# calibrate's own entry point


# calibrate and train share the readers above; their own entry points


def test_calibrate_with_a_damaged_model_config(tmp_path, tiny_index):
    model = tmp_path / "model"
    model.mkdir()
    (model / "entqa_config.json").write_text("")
    docs = FIXTURES / "docs_toy.jsonl"
    result = runner.invoke(app, ["calibrate", str(docs), "--index", str(tiny_index), "--model", str(model)])
    one_error(result, "E074", f"{model / 'entqa_config.json'}: the model configuration is damaged")
