"""Alias rows: each alias indexed as an extra row of its entity; search returns entities."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Entity
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import DenseIndex, IndexManifest
from entqa_kit.index.rows import ENTITY_ROWS, alias_titles, best_per_entity, row_entities
from entqa_kit.index.update import add_entities, compact_index, remove_entities
from tests.conftest import FIXTURES

KB = FIXTURES / "kb_native.jsonl"
runner = CliRunner()


def alias_count() -> int:
    records = [json.loads(line) for line in KB.read_text().splitlines()]
    return sum(len(alias_titles(Entity(**r), 16)) for r in records)


@pytest.fixture(scope="module")
def alias_index(tmp_path_factory, tiny_encoder):
    out = tmp_path_factory.mktemp("alias-index")
    build_index(KB, out, encoder=tiny_encoder, quiet=True, alias_rows=16)
    return out


def test_alias_titles_drop_repeats_of_the_title_and_each_other():
    entity = Entity(
        id="X", title="Paris", aliases=("paris", "City of Light", "City  of light", "", "Lutetia")
    )
    assert alias_titles(entity, 5) == ["City of Light", "Lutetia"]
    assert alias_titles(entity, 1) == ["City of Light"]
    rows = row_entities(Entity(id="X", title="Paris", description="Capital.", aliases=("Lutetia",)), 3)
    assert [(e.title, e.description, e.aliases) for e in rows] == [
        ("Paris", "Capital.", ("Lutetia",)),
        ("Lutetia", "Capital.", ()),
    ]


def test_best_per_entity_keeps_the_best_row_of_each_entity_and_drops_dead_rows():
    entity_rows = np.array([0, 0, 1, -1, 2, 1], dtype=np.int32)
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]], dtype=np.float32)
    vector_rows = np.array([[1, 0, 3, 5, 4, -1]])
    best_scores, best_rows, enough = best_per_entity(scores, vector_rows, entity_rows, 3)
    assert best_rows.tolist() == [[0, 1, 2]] and enough.tolist() == [True]
    np.testing.assert_allclose(best_scores, [[0.9, 0.6, 0.5]])
    _, rows, enough = best_per_entity(scores, vector_rows, entity_rows, 4)
    assert rows.tolist() == [[0, 1, 2, -1]] and enough.tolist() == [False]


def test_alias_rows_are_recorded_and_mapped(alias_index):
    manifest = IndexManifest.read(alias_index)
    extra = alias_count()
    assert extra > 0
    assert (manifest.alias_rows, manifest.entity_count, manifest.count) == (16, 20, 20 + extra)
    rows = np.fromfile(alias_index / ENTITY_ROWS, dtype=np.int32)
    assert len(rows) == 20 + extra and rows.tolist() == sorted(rows.tolist()), "each entity's rows together"


def test_an_alias_finds_its_entity_once(alias_index, tiny_index, tiny_encoder):
    paris_by_alias = Entity(id="Q1", title="City of Light", description="Capital and largest city of France.")
    query = tiny_encoder.encode(
        tiny_encoder.entity_texts([paris_by_alias]), tiny_encoder.config.max_entity_tokens
    )
    index = DenseIndex.load(alias_index)
    hits = index.search_hits(query, k=20)[0]
    assert hits[0].id == "Q1" and hits[0].score == pytest.approx(1.0, abs=2e-3)
    assert len(hits) == 20 and len({h.id for h in hits}) == 20, "every entity once"
    assert hits[0].title == "Paris", "hits show the entity, not the alias row"
    plain = DenseIndex.load(tiny_index).search_hits(query, k=1)[0][0]
    assert plain.score < hits[0].score - 0.01, "without alias rows the alias text is not indexed"


def test_a_rebuild_with_other_alias_rows_is_refused(tmp_path, alias_index, tiny_encoder):
    copy = tmp_path / "idx"
    shutil.copytree(alias_index, copy)
    with pytest.raises(EntQAError) as caught:
        build_index(KB, copy, encoder=tiny_encoder, quiet=True)
    assert caught.value.code == "E036" and "alias rows 16 in the index, 0 now" in caught.value.message
    build_index(KB, copy, encoder=tiny_encoder, quiet=True, overwrite=True)
    assert not (copy / ENTITY_ROWS).exists() and IndexManifest.read(copy).alias_rows == 0


def test_changes_keep_alias_rows(tmp_path, alias_index, tiny_encoder):
    copy = tmp_path / "idx"
    shutil.copytree(alias_index, copy)
    rows = IndexManifest.read(copy).count
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "N1", "title": "Lisbon", "aliases": ["Lisboa", "lisbon"]}) + "\n")
    change = add_entities(copy, new, encoder=tiny_encoder, quiet=True)
    assert (change.entities, change.rows) == (21, rows + 2), "the title and one distinct alias"
    remove_entities(copy, ["Q1"])
    compacted = compact_index(copy, quiet=True)
    assert compacted.rows == rows + 2 - 2, "Paris and its alias row are gone"
    index = DenseIndex.load(copy)
    assert index.entity_rows is not None and len(index.kb) == 20
    lisboa = Entity(id="N1", title="Lisboa")
    query = tiny_encoder.encode(tiny_encoder.entity_texts([lisboa]), tiny_encoder.config.max_entity_tokens)
    assert index.search_hits(query, k=1)[0][0].id == "N1"


def test_cli_alias_rows(tmp_path, tiny_model):
    out = tmp_path / "idx"
    args = ["index", str(KB), "--out", str(out), "--model", str(tiny_model), "--alias-rows"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"Indexed 20 entities ({20 + alias_count()} rows with aliases)" in result.output
    result = runner.invoke(app, ["search", str(out), "City of Light", "--json", "-k", "20"])
    ids = [hit["id"] for hit in json.loads(result.output)]
    assert len(ids) == 20 and len(set(ids)) == 20


def test_entity_vectors_are_the_title_rows(alias_index, tiny_index):
    plain, aliased = DenseIndex.load(tiny_index), DenseIndex.load(alias_index)
    rows = np.array([0, 1, 7, 19])
    assert aliased.entity_rows is not None and aliased.manifest.count > 20
    np.testing.assert_allclose(aliased.entity_vectors(rows), plain.entity_vectors(rows), atol=2e-3)
