"""Changing a built index in place: add, update, remove, compact; atomic however the process stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.config import IndexConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Entity
from entqa_kit.index import commit
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import DenseIndex, IndexManifest
from entqa_kit.index.rows import ENTITY_ROWS
from entqa_kit.index.update import add_entities, compact_index, remove_entities
from tests.conftest import FIXTURES

KB = FIXTURES / "kb_native.jsonl"
NEW = [
    {
        "id": "N1",
        "title": "Lisbon",
        "description": "Capital of Portugal on the Tagus.",
        "aliases": ["Lisboa"],
    },
    {"id": "N2", "title": "Porto", "description": "Port city in northern Portugal.", "aliases": []},
]
runner = CliRunner()


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def kb_records() -> list[dict]:
    return [json.loads(line) for line in KB.read_text().splitlines()]


@pytest.fixture
def index_copy(tmp_path, tiny_index) -> Path:
    copy = tmp_path / "idx"
    shutil.copytree(tiny_index, copy)
    return copy


def own_text_queries(encoder, entities: list[Entity]) -> np.ndarray:
    return encoder.encode(encoder.entity_texts(entities), encoder.config.max_entity_tokens)


def top_ids(index_dir: Path, queries: np.ndarray, k: int = 5) -> tuple[list[list[str]], np.ndarray]:
    index = DenseIndex.load(index_dir)
    scores, rows = index.search(queries, k)
    assert rows.shape == (len(queries), k) and (rows >= 0).all()
    ids = [[e.id for e in index.kb.by_rows(list(r))] for r in rows]
    index.kb.close()
    return ids, scores


def probe_queries(encoder) -> np.ndarray:
    entities = [Entity(**{k: v for k, v in r.items() if k != "types"}) for r in kb_records()[:6]]
    return own_text_queries(encoder, entities)


def test_add_encodes_only_new_entities_and_matches_a_fresh_build(tmp_path, index_copy, tiny_encoder):
    before = (index_copy / "vectors.f16").read_bytes()
    change = add_entities(
        index_copy, write_jsonl(tmp_path / "new.jsonl", NEW), encoder=tiny_encoder, quiet=True
    )
    assert (change.added, change.updated, change.entities, change.rows) == (2, 0, 22, 22)
    assert (index_copy / "vectors.f16").read_bytes()[: len(before)] == before, "old rows are untouched"

    fresh = tmp_path / "fresh"
    build_index(
        write_jsonl(tmp_path / "all.jsonl", kb_records() + NEW), fresh, encoder=tiny_encoder, quiet=True
    )
    changed, rebuilt = IndexManifest.read(index_copy), IndexManifest.read(fresh)
    assert (changed.count, changed.entity_count, changed.kb_fingerprint) == (22, 22, rebuilt.kb_fingerprint)
    assert changed.changes[-1]["operation"] == "add" and changed.changes[-1]["added"] == 2
    np.testing.assert_allclose(
        DenseIndex.load(index_copy).vectors[20:], DenseIndex.load(fresh).vectors[20:], atol=2e-3
    )
    new_entities = [Entity(**r) for r in NEW]
    ids, _ = top_ids(index_copy, own_text_queries(tiny_encoder, new_entities), k=3)
    assert [i[0] for i in ids] == ["N1", "N2"]


def test_on_duplicate_error_update_and_skip(tmp_path, index_copy, tiny_encoder):
    paris = {"id": "Q1", "title": "Paris, Texas", "description": "A city in Lamar County, Texas."}
    new = write_jsonl(tmp_path / "new.jsonl", [paris, NEW[1]])
    with pytest.raises(EntQAError) as caught:
        add_entities(index_copy, new, encoder=tiny_encoder, quiet=True)
    assert caught.value.message == (
        f"[E150] {new}: 1 of its entities are already in the index {index_copy} ('Q1'); pass --on-duplicate "
        "update to re-encode them or --on-duplicate skip to leave them as they are"
    )
    assert IndexManifest.read(index_copy).count == 20, "refused: nothing changed"

    skipped = add_entities(index_copy, new, "skip", encoder=tiny_encoder, quiet=True)
    assert (skipped.added, skipped.updated, skipped.skipped) == (1, 0, 1)
    assert DenseIndex.load(index_copy).kb.by_id("Q1").title == "Paris"

    updated = add_entities(index_copy, new, "update", encoder=tiny_encoder, quiet=True)
    assert (updated.added, updated.updated, updated.dead_rows, updated.entities, updated.rows) == (
        0,
        2,
        2,
        21,
        23,
    )
    index = DenseIndex.load(index_copy)
    assert index.kb.by_id("Q1").title == "Paris, Texas" and index.kb.row_of("Q1") == 0, "same entity row"
    ids, _ = top_ids(index_copy, own_text_queries(tiny_encoder, [Entity(**paris)]), k=21)
    assert ids[0][0] == "Q1" and len(set(ids[0])) == 21, "each entity once, dead rows never"


def test_remove_never_returns_them_and_compact_equals_a_fresh_build(tmp_path, index_copy, tiny_encoder):
    queries = probe_queries(tiny_encoder)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# gone\nQ1\n\nQ3\n")
    change = remove_entities(index_copy, ids_file)
    assert (change.removed, change.entities, change.rows, change.dead_rows) == (2, 18, 20, 2)
    index = DenseIndex.load(index_copy)
    assert index.kb.by_id("Q1") is None and len(index.kb) == 18
    found, scores = top_ids(index_copy, queries, k=18)
    assert all("Q1" not in ids and "Q3" not in ids for ids in found)

    fresh = tmp_path / "fresh"
    kept = [r for r in kb_records() if r["id"] not in ("Q1", "Q3")]
    build_index(write_jsonl(tmp_path / "kept.jsonl", kept), fresh, encoder=tiny_encoder, quiet=True)
    assert IndexManifest.read(index_copy).kb_fingerprint == IndexManifest.read(fresh).kb_fingerprint
    expected, expected_scores = top_ids(fresh, queries, k=18)
    assert found == expected
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)

    compacted = compact_index(index_copy, quiet=True)
    assert (compacted.dropped_rows, compacted.rows, compacted.dead_rows) == (2, 18, 0)
    assert not (index_copy / ENTITY_ROWS).exists(), "an identity map is not kept"
    assert (index_copy / "vectors.f16").read_bytes() == (fresh / "vectors.f16").read_bytes()
    assert top_ids(index_copy, queries, k=18)[0] == expected


def test_add_then_remove_restores_the_results_exactly(tmp_path, index_copy, tiny_encoder):
    queries = probe_queries(tiny_encoder)
    original = IndexManifest.read(index_copy).kb_fingerprint
    ids, scores = top_ids(index_copy, queries, k=10)
    lookalikes = [
        {"id": f"X{i}", "title": r["title"], "description": r.get("description", "")}
        for i, r in enumerate(kb_records())
    ]
    add_entities(index_copy, write_jsonl(tmp_path / "x.jsonl", lookalikes), encoder=tiny_encoder, quiet=True)
    assert top_ids(index_copy, queries, k=10)[0] != ids, "the lookalikes compete"
    remove_entities(index_copy, [r["id"] for r in lookalikes])
    after_ids, after_scores = top_ids(index_copy, queries, k=10)
    assert after_ids == ids and np.array_equal(after_scores, scores)
    assert IndexManifest.read(index_copy).kb_fingerprint == original


def test_a_failure_between_steps_leaves_the_index_as_it_was(tmp_path, index_copy, tiny_encoder):
    manifest = (index_copy / "manifest.json").read_bytes()
    store = (index_copy / "kb.sqlite").read_bytes()
    new = write_jsonl(tmp_path / "new.jsonl", NEW)
    for step in ("encoded", "staged"):

        def fail(at: str, step=step) -> None:
            if at == step:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            add_entities(index_copy, new, encoder=tiny_encoder, quiet=True, on_step=fail)
        assert (index_copy / "manifest.json").read_bytes() == manifest
        assert (index_copy / "kb.sqlite").read_bytes() == store
        assert not list(index_copy.glob("*.next")) and not (index_copy / commit.JOURNAL).exists()
        assert DenseIndex.load(index_copy).manifest.count == 20
    assert add_entities(index_copy, new, encoder=tiny_encoder, quiet=True).entities == 22
    assert (index_copy / "vectors.f16").stat().st_size == 22 * 32 * 2, "the dead tail was cut off first"


def test_a_commit_cut_short_is_finished_by_the_next_reader(tmp_path, index_copy, tiny_encoder, monkeypatch):
    real_finish = commit._finish

    def crash(directory: Path) -> None:
        if (directory / commit.JOURNAL).exists():
            (directory / "manifest.json.next").rename(directory / "manifest.json.keep")
            raise SystemExit("killed during the renames")

    monkeypatch.setattr(commit, "_finish", crash)
    with pytest.raises(SystemExit):
        add_entities(index_copy, write_jsonl(tmp_path / "new.jsonl", NEW), encoder=tiny_encoder, quiet=True)
    monkeypatch.setattr(commit, "_finish", real_finish)
    assert (index_copy / commit.JOURNAL).exists()
    (index_copy / "manifest.json.keep").rename(index_copy / "manifest.json.next")
    index = DenseIndex.load(index_copy)
    assert (index.manifest.count, len(index.kb), index.kb.by_id("N1").title) == (22, 22, "Lisbon")
    assert not (index_copy / commit.JOURNAL).exists() and not list(index_copy.glob("*.next"))


KILLED_ADD = """
import sys, time
from pathlib import Path
from entqa_kit.core.config import EncoderConfig
from entqa_kit.index.update import add_entities
from entqa_kit.models.encoder import TextEncoder

index, new, model, marker = (Path(a) for a in sys.argv[1:5])
encoder = TextEncoder.load(EncoderConfig(model=str(model), pooling="mean", normalize=True, dtype="float32"))

def pause(step):
    if step == "staged":
        marker.write_text(step)
        time.sleep(120)

add_entities(index, new, encoder=encoder, quiet=True, on_step=pause)
"""


def test_a_killed_add_process_leaves_the_index_as_it_was(tmp_path, index_copy, tiny_model, tiny_encoder):
    manifest = (index_copy / "manifest.json").read_bytes()
    queries = probe_queries(tiny_encoder)
    before = top_ids(index_copy, queries)
    new, marker = write_jsonl(tmp_path / "new.jsonl", NEW), tmp_path / "marker"
    args = [sys.executable, "-c", KILLED_ADD, str(index_copy), str(new), str(tiny_model), str(marker)]
    process = subprocess.Popen(args, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        deadline = time.monotonic() + 600  # a cold start of torch on a busy machine
        while not marker.exists():
            assert process.poll() is None, "the add stopped before it staged its files"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert list(index_copy.glob("*.next")), "killed with staged files and a vector tail in place"
        assert (index_copy / "vectors.f16").stat().st_size > 20 * 32 * 2
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert (index_copy / "manifest.json").read_bytes() == manifest
    after = top_ids(index_copy, queries)
    assert after[0] == before[0] and np.array_equal(after[1], before[1])
    assert add_entities(index_copy, new, encoder=tiny_encoder, quiet=True).entities == 22


def test_a_second_update_at_once_is_refused(tmp_path, index_copy, tiny_encoder):
    fcntl = pytest.importorskip("fcntl")
    with (index_copy / commit.UPDATE_LOCK).open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(EntQAError) as caught:
            remove_entities(index_copy, ["Q1"])
    assert caught.value.message == (
        f"[E152] {index_copy}: another process is changing this index; wait for it to finish, then rerun"
    )


@pytest.mark.parametrize("index_type", ["hnsw", "ivfpq"])
def test_add_to_faiss_structures(tmp_path, tiny_encoder, index_type):
    out = tmp_path / "idx"
    build_index(KB, out, index_config=IndexConfig(index_type=index_type), encoder=tiny_encoder, quiet=True)
    assert IndexManifest.read(out).trained_rows == (20 if index_type == "ivfpq" else None)
    add_entities(out, write_jsonl(tmp_path / "new.jsonl", NEW), encoder=tiny_encoder, quiet=True)
    index = DenseIndex.load(out)
    assert index.faiss_index.ntotal == 22
    # k=10: ivfpq rescores 4 x 10 candidates, all 22 rows here (its 1-bit codes of 20 points are too
    # coarse to rank); a vector missing from the faiss structure would never be one of them
    ids, _ = top_ids(out, own_text_queries(tiny_encoder, [Entity(**r) for r in NEW]), k=10)
    assert [i[0] for i in ids] == ["N1", "N2"]
    remove_entities(out, ["N1"])
    ids, _ = top_ids(out, own_text_queries(tiny_encoder, [Entity(**NEW[0])]), k=21)
    assert "N1" not in ids[0] and len(set(ids[0])) == 21
    compact_index(out, quiet=True)
    assert DenseIndex.load(out).faiss_index.ntotal == 21


def test_ivfpq_growth_advises_a_retrain(tmp_path, tiny_encoder):
    out = tmp_path / "idx"
    build_index(KB, out, index_config=IndexConfig(index_type="ivfpq"), encoder=tiny_encoder, quiet=True)
    more = [{"id": f"M{i}", "title": f"Town {i}", "description": "A small town."} for i in range(11)]
    change = add_entities(out, write_jsonl(tmp_path / "more.jsonl", more), encoder=tiny_encoder, quiet=True)
    assert change.advice == [
        f"the index has 55% more rows than its ivfpq quantiser was trained on; retrain it with "
        f"'entqa-kit index compact {out}'"
    ]
    assert compact_index(out, quiet=True).advice == []


def test_python_api_methods(tmp_path, index_copy, tiny_encoder):
    index = DenseIndex.load(index_copy)
    change = index.add([Entity(**NEW[0])], encoder=tiny_encoder)
    assert change.added == 1 and len(index.kb) == 21 and index.kb.by_id("N1").title == "Lisbon"
    index.remove(["N1", "Q2"])
    assert len(index.kb) == 19 and index.kb.by_id("Q2") is None
    index.compact()
    assert index.manifest.count == 19 and index.vectors.shape == (19, 32)


def test_cli_add_remove_compact(tmp_path, index_copy):
    new = write_jsonl(tmp_path / "new.jsonl", NEW)
    result = runner.invoke(app, ["index", "add", str(index_copy), str(new), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 2

    result = runner.invoke(app, ["index", "add", str(index_copy), str(new)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E150] {new}: 2 of its entities are already in the index {index_copy} ('N1', 'N2'); pass "
        "--on-duplicate update to re-encode them or --on-duplicate skip to leave them as they are\n"
    )
    result = runner.invoke(app, ["index", "add", str(index_copy), str(new), "--on-duplicate", "bogus"])
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E155] {index_copy}: on-duplicate must be one of error, update, skip, got 'bogus'; fix the "
        "value\n"
    )

    ids = tmp_path / "ids.txt"
    ids.write_text("N1\nQ99\n")
    result = runner.invoke(app, ["index", "remove", str(index_copy), str(ids)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: [E151] {ids}: 1 of its ids are not in the index {index_copy} ('Q99'); fix the ids or pass "
        "--ignore-missing\n"
    )
    result = runner.invoke(app, ["index", "remove", str(index_copy), str(ids), "--ignore-missing"])
    assert result.exit_code == 0, result.output
    assert "removed 1; now 21 entities in 22 vector rows" in result.output

    result = runner.invoke(app, ["index", "compact", str(index_copy), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dropped_rows"] == 1
    result = runner.invoke(app, ["search", str(index_copy), "Lisbon", "--json"])
    assert result.exit_code == 0 and "N1" not in {hit["id"] for hit in json.loads(result.output)}


def test_cli_build_form_is_unchanged(tmp_path, tiny_model):
    out = tmp_path / "idx"
    result = runner.invoke(app, ["index", str(KB), "--out", str(out), "--model", str(tiny_model), "--quiet"])
    assert result.exit_code == 0, result.output
    assert IndexManifest.read(out).count == 20
    result = runner.invoke(app, ["index", "build", str(KB), "--out", str(out), "--model", str(tiny_model)])
    assert result.exit_code == 0 and "already up to date (20 entities)" in " ".join(result.output.split())


def test_exact_ties_are_ordered_by_row_whatever_k_and_dead_rows():
    from entqa_kit.index.dense import exact_search
    from entqa_kit.index.rows import search_entities

    a, b = np.eye(4, dtype=np.float16)[0], np.eye(4, dtype=np.float16)[1]
    vectors = np.stack([b, a, b, a, a, b * 0])  # rows 1, 3, 4 tie at the top, 0 and 2 next
    query = np.array([[1.0, 0.5, 0, 0]], dtype=np.float32)
    for k in (1, 2, 3, 4, 6):
        assert exact_search(vectors, query, k)[1][0].tolist() == [1, 3, 4, 0, 2, 5][:k]
    with_dead = np.concatenate([vectors, np.stack([a] * 20)])  # removed rows that tie too
    entity_rows = np.array([0, 1, 2, 3, 4, 5] + [-1] * 20, dtype=np.int32)
    _, rows = search_entities(lambda q, k: exact_search(with_dead, q, k), query, 3, entity_rows, 6)
    assert rows[0].tolist() == [1, 3, 4]
