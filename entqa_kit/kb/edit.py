"""Change a copy of an entity store: put and delete entities, refingerprint, compact the rows.

A store is only ever changed as a copy (``<name>.next``) that an index update then puts in place,
so a reader never sees a half-changed store. The fingerprint is recomputed over the live entities
in row order, exactly as a build computes it: removing what was added gives the old fingerprint
back, and a store changed in place fingerprints like one built from the changed KB file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.records import Entity, SourceEntity
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.kb.store import KnowledgeBase, content_line, entity_values

_SELECT = "SELECT row, id, title, description, aliases, types, alt_ids, line FROM entities ORDER BY row"


@dataclass(frozen=True)
class StoreState:
    """A store's fingerprint and live entity count after a change."""

    fingerprint: str
    count: int


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` at ``target`` (SQLite's backup API; replaces ``target``)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True) as src:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    src.close()


def _rows(db: sqlite3.Connection) -> Iterator[tuple[int, Entity, int]]:
    for row, entity_id, title, description, aliases, types, alt_ids, line in db.execute(_SELECT):
        entity = Entity(
            id=entity_id,
            title=title,
            description=description,
            aliases=tuple(json.loads(aliases)),
            types=tuple(json.loads(types)),
            alt_ids=tuple(json.loads(alt_ids)),
        )
        yield row, entity, line


def edit_store(path: Path, put: Sequence[tuple[int, SourceEntity]], delete: Sequence[int]) -> StoreState:
    """Write ``put`` (row, entity: a new row or the new content of an existing one) and delete the
    rows ``delete`` in one transaction, then store the new fingerprint and count."""
    db = sqlite3.connect(path)
    try:
        with db:
            for row in delete:
                db.execute("DELETE FROM entities WHERE row = ?", (row,))
                db.execute("DELETE FROM alt_ids WHERE row = ?", (row,))
            for row, item in put:
                e = item.entity
                db.execute("DELETE FROM alt_ids WHERE row = ?", (row,))
                db.execute(
                    "INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row, *entity_values(item)),
                )
                db.executemany("INSERT INTO alt_ids VALUES (?, ?)", [(a, row) for a in e.alt_ids])
            digest = hashlib.sha256()
            count = 0
            for _, entity, _ in _rows(db):
                digest.update(content_line(entity))
                count += 1
            state = StoreState(digest.hexdigest()[:16], count)
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("fingerprint", state.fingerprint), ("count", str(state.count))],
            )
    finally:
        db.close()
    return state


def next_row(path: Path) -> int:
    """The row number a new entity of the store at ``path`` gets: one past its highest row."""
    with sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True) as db:
        (highest,) = db.execute("SELECT MAX(row) FROM entities").fetchone()
    db.close()
    return 0 if highest is None else highest + 1


def compact_store(source: Path, target: Path) -> dict[int, int]:
    """Rewrite ``source`` at ``target`` with rows 0..n-1 (same order, same fingerprint); returns
    old row -> new row."""
    with sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        items = [(row, SourceEntity(line=line, entity=entity)) for row, entity, line in _rows(db)]
    db.close()
    KnowledgeBase.build(
        (item for _, item in items), target, Path(meta.get("source", "")), BadRowLog(False)
    ).close()
    return {row: new for new, (row, _) in enumerate(items)}
