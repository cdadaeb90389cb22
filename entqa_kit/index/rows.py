"""Vector rows and entity rows: alias rows, tombstones, and search that returns entities.

A freshly built index without alias rows has vector row i = entity row i, and no map file. An index
with alias rows (each alias indexed as an extra row of its entity: the alias in the title slot, the
entity's description), or one changed in place (re-encoded entities appended, removed ones
tombstoned), keeps ``entity_rows.i32`` beside ``vectors.f16``: one int32 per vector row, the entity
row it belongs to, or -1 for a dead row. The first live vector row of an entity is its title row.

Search asks the vector search for more rows than entities wanted, keeps the best row per entity and
drops dead rows; it asks again for more until it has ``k`` entities or has seen every row, so the
entities returned are exactly the best ``k`` by their best row.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from entqa_kit.core.records import Entity
from entqa_kit.kb.store import KnowledgeBase

ENTITY_ROWS = "entity_rows.i32"
DEAD = -1

Search = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def read_entity_rows(directory: Path, count: int) -> np.ndarray | None:
    """The map of an index's ``count`` vector rows; None when it has none (identity)."""
    path = directory / ENTITY_ROWS
    if not path.is_file():
        return None
    rows = np.fromfile(path, dtype=np.int32)
    if len(rows) != count:
        from entqa_kit.core.errors import EntQAError

        raise EntQAError(
            "E035", path=directory, detail=f"{ENTITY_ROWS} has {len(rows)} rows, expected {count}"
        )
    return rows


def write_entity_rows(path: Path, rows: np.ndarray) -> None:
    """Write a map (int32) to ``path``, flushed to disk."""
    with path.open("wb") as handle:
        np.asarray(rows, dtype=np.int32).tofile(handle)
        handle.flush()
        os.fsync(handle.fileno())


def identity(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.int32)


def alias_titles(entity: Entity, limit: int) -> list[str]:
    """Up to ``limit`` aliases of ``entity`` that differ from its title and from each other
    (ignoring case and spacing), in KB order."""
    seen = {" ".join(entity.title.split()).casefold()}
    found = []
    for alias in entity.aliases:
        key = " ".join(alias.split()).casefold()
        if key and key not in seen and len(found) < limit:
            seen.add(key)
            found.append(alias)
    return found


def row_entities(entity: Entity, alias_rows: int) -> list[Entity]:
    """The texts an entity is indexed as: itself, then one per alias (alias in the title slot)."""
    aliases = alias_titles(entity, alias_rows) if alias_rows else []
    return [entity] + [entity.model_copy(update={"title": alias, "aliases": ()}) for alias in aliases]


def alias_row_layout(kb: KnowledgeBase, alias_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """For a build with alias rows: the entity row and the slot (0: title, j: j-th alias) of every
    vector row, entities in row order, each entity's rows together."""
    entity_rows, slots = [], []
    for row, entity in kb.iter_entities():
        n = len(row_entities(entity, alias_rows))
        entity_rows.extend([row] * n)
        slots.extend(range(n))
    return np.asarray(entity_rows, dtype=np.int32), np.asarray(slots, dtype=np.int32)


def layout_entities(
    kb: KnowledgeBase, entity_rows: np.ndarray, slots: np.ndarray, alias_rows: int
) -> list[Entity]:
    """The entity texts of a run of vector rows given by their entity rows and slots."""
    entities = kb.by_rows([int(r) for r in entity_rows])
    return [row_entities(e, alias_rows)[int(s)] for e, s in zip(entities, slots)]


def best_per_entity(
    scores: np.ndarray, vector_rows: np.ndarray, entity_rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From per-query results sorted best first: the best ``k`` distinct live entities (scores and
    entity rows, -1/-inf padded) and, per query, whether ``k`` were found."""
    n, width = vector_rows.shape
    entities = np.where(vector_rows >= 0, entity_rows[np.maximum(vector_rows, 0)], DEAD).astype(np.int64)
    key = np.where(entities >= 0, entities, np.iinfo(np.int64).max)
    order = np.argsort(key, axis=1, kind="stable")  # equal entities stay in score order
    sorted_key = np.take_along_axis(key, order, axis=1)
    first = np.ones_like(sorted_key, dtype=bool)
    first[:, 1:] = sorted_key[:, 1:] != sorted_key[:, :-1]
    first &= sorted_key != np.iinfo(np.int64).max
    keep = np.zeros_like(first)
    np.put_along_axis(keep, order, first, axis=1)
    rank = np.cumsum(keep, axis=1) - 1
    take = keep & (rank < k)
    out_scores = np.full((n, k), -np.inf, dtype=np.float32)
    out_rows = np.full((n, k), -1, dtype=np.int64)
    qi, pi = np.nonzero(take)
    out_scores[qi, rank[qi, pi]] = scores[qi, pi]
    out_rows[qi, rank[qi, pi]] = entities[qi, pi]
    return out_scores, out_rows, keep.sum(axis=1) >= k


def search_entities(
    search: Search, queries: np.ndarray, k: int, entity_rows: np.ndarray, live_entities: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` entities per query through a vector-row ``search``, widening it until every query
    has ``k`` distinct live entities or all rows were searched."""
    total = len(entity_rows)
    k = max(1, min(k, live_entities))
    width = min(total, k * max(2, -(-total // max(1, live_entities))))
    while True:
        scores, vector_rows = search(queries, width)
        best_scores, best_rows, enough = best_per_entity(scores, vector_rows, entity_rows, k)
        if enough.all() or width >= total:
            return best_scores, best_rows
        width = min(total, width * 4)
