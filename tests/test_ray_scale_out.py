"""Ray: linking a corpus with a pool of actors and encoding a KB shard by shard equal a single-process run."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.config import IndexConfig
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES, Interrupted, stop_after

runner = CliRunner()


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    """One local 2-CPU Ray cluster for the module (the library reuses an open session)."""
    pytest.importorskip("ray")
    import ray
    import ray.cloudpickle  # noqa: F401

    import tests.ray_helpers as helpers

    ray.cloudpickle.register_pickle_by_value(helpers)  # workers need not import the tests package
    os.environ[helpers.CRASH_MARKER] = str(tmp_path_factory.mktemp("crash") / "crashed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()
    os.environ.pop(helpers.CRASH_MARKER, None)


def _docs(tmp_path):
    """The toy documents, one empty document (a failure) and a text file."""
    docs = tmp_path / "docs"
    docs.mkdir()
    lines = FIXTURES.joinpath("docs_toy.jsonl").read_text(encoding="utf-8").splitlines()[:12]
    lines.insert(5, json.dumps({"id": "empty", "text": "  "}))
    (docs / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (docs / "b.txt").write_text("Yesterday we read about Paris in the news.", encoding="utf-8")
    return docs


def test_ray_link_writes_the_single_process_file_and_survives_a_worker_crash(
    tmp_path, toy_model, ray_session
):
    import tests.ray_helpers as helpers
    from entqa_kit.distributed.ray_index import RayOptions
    from entqa_kit.distributed.ray_link import link_inputs_ray
    from entqa_kit.linking.run import link_inputs

    model, index = toy_model
    docs = _docs(tmp_path)
    single = link_inputs([docs], index_dir=index, model_dir=model, out=tmp_path / "one.jsonl", quiet=True)
    seen = []
    spread = link_inputs_ray(
        [docs],
        index_dir=index,
        model_dir=model,
        out=tmp_path / "ray.jsonl",
        ray=RayOptions(workers=2, cpus_per_worker=1),
        documents_per_batch=3,
        quiet=True,
        on_failure=seen.append,
        actor=helpers.CrashOnceActor,  # one worker dies on its first batch: Ray restarts it and retries
    )
    assert os.path.exists(os.environ[helpers.CRASH_MARKER]), "the crash was not injected"
    expected = (tmp_path / "one.jsonl").read_bytes()
    assert expected.count(b"\n") == 13
    assert (tmp_path / "ray.jsonl").read_bytes() == expected
    assert (spread.documents, spread.mentions) == (single.documents, single.mentions)
    assert [f.code for f in spread.failures] == [f.code for f in single.failures] == ["E061"]
    assert [f.code for f in seen] == ["E061"]


def test_ray_link_cli_writes_shards_and_a_manifest(tmp_path, toy_model, ray_session):
    model, index = toy_model
    docs = _docs(tmp_path)
    out = tmp_path / "pred"
    args = ["link", str(docs), "--index", str(index), "--model", str(model), "-q"]
    result = runner.invoke(app, [*args, "--out", str(out) + "/", "--ray", "--ray-workers", "2", "--json"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: [E060] 1 of 14 documents failed and were skipped (listed above); "
        "fix them and link those again"
    )
    summary = json.loads(result.stdout)
    assert (summary["documents"], summary["failed"]) == (13, 1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["documents"] == 13 and manifest["failed"] == 1 and manifest["total"] == 14
    assert len(manifest["failures"]) == 1 and manifest["failures"][0].startswith("[E061]")
    shards = [out / s["file"] for s in manifest["shards"]]
    assert shards and all(s.is_file() for s in shards)
    single = tmp_path / "one.jsonl"
    assert runner.invoke(app, [*args, "--out", str(single)]).exit_code == 1
    assert b"".join(s.read_bytes() for s in shards) == single.read_bytes()


def test_ray_index_equals_a_single_process_build_and_resumes(tmp_path, tiny_encoder, ray_session):
    from entqa_kit.distributed.ray_index import RayOptions, build_index_ray
    from entqa_kit.index.build import build_index
    from entqa_kit.index.dense import IndexManifest, open_vectors

    config = IndexConfig(shard_size=3, index_type="flat")
    kb = FIXTURES / "kb_native.jsonl"
    build_index(kb, tmp_path / "one", encoder=tiny_encoder, index_config=config, quiet=True)
    options = RayOptions(workers=2, cpus_per_worker=1)
    with pytest.raises(Interrupted):
        build_index_ray(
            kb,
            tmp_path / "ray",
            options,
            encoder=tiny_encoder,
            index_config=config,
            quiet=True,
            on_shard=stop_after(2),
        )
    progress = json.loads((tmp_path / "ray" / "progress.json").read_text())
    assert progress["shards_done"] == 3
    result = build_index_ray(
        kb, tmp_path / "ray", options, encoder=tiny_encoder, index_config=config, quiet=True
    )
    assert (result.resumed_from, result.encoded, result.count) == (9, 11, 20)
    one, two = IndexManifest.read(tmp_path / "one"), IndexManifest.read(tmp_path / "ray")
    timing = {"created"}
    assert one.model_dump(exclude=timing) == two.model_dump(exclude=timing)
    a = np.asarray(open_vectors(tmp_path / "one", one.count, one.dim), dtype=np.float32)
    b = np.asarray(open_vectors(tmp_path / "ray", two.count, two.dim), dtype=np.float32)
    assert a.shape == (20, one.dim) and np.abs(a).sum() > 0
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-3)  # fp16 rounding at most


def test_ray_options_that_cannot_apply_are_refused(tmp_path, tiny_index):
    args = ["link", str(FIXTURES / "docs_toy.jsonl"), "--index", str(tiny_index), "--ray"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: [E100] --ray cannot be used without --out; give --out PRED.jsonl or --out DIR/"
    )
    result = runner.invoke(
        app, [*args, "--out", str(tmp_path / "p.jsonl"), "--html", str(tmp_path / "p.html")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: [E100] --html cannot be used with --ray; link without --ray for the HTML page"
    )


def test_missing_ray_is_one_coded_error(monkeypatch):
    import sys

    from entqa_kit.distributed.ray_cluster import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(EntQAError) as caught:
        import_ray()
    assert caught.value.code == "E141"
    assert "pip install 'entqa-kit[distributed]'" in caught.value.message
