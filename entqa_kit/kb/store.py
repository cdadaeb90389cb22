"""The entity store: a KB in SQLite, row numbers aligned with the vector rows.

Rows are numbered 0..n-1 in the order the adapter yields entities; vector row i
of a freshly built index is the entity with ``row = i`` (an index with alias rows or changed
in place maps vector rows to entity rows, see ``entqa_kit.index.rows``; removed entities leave
gaps until it is compacted). The fingerprint is a SHA-256 over the entities' content in row
order, so the same KB always gets the same one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import require_file
from entqa_kit.core.records import Entity, SourceEntity
from entqa_kit.io.bad_rows import BadRowLog

_SCHEMA = """
CREATE TABLE entities (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    title_norm TEXT NOT NULL,
    description TEXT NOT NULL,
    aliases TEXT NOT NULL,
    types TEXT NOT NULL,
    alt_ids TEXT NOT NULL,
    line INTEGER NOT NULL
);
CREATE TABLE alt_ids (alt_id TEXT NOT NULL, row INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_INDEXES = """
CREATE INDEX entities_title ON entities(title);
CREATE INDEX entities_title_norm ON entities(title_norm);
CREATE INDEX alt_ids_alt_id ON alt_ids(alt_id);
"""
_COLUMNS = "id, title, description, aliases, types, alt_ids"


def entity_values(item: SourceEntity) -> tuple:
    """The ``entities`` table's columns after ``row`` for one source entity."""
    e = item.entity
    aliases, types, alt_ids = json.dumps(e.aliases), json.dumps(e.types), json.dumps(e.alt_ids)
    return (e.id, e.title, normalize_title(e.title), e.description, aliases, types, alt_ids, item.line)


def normalize_title(title: str) -> str:
    """Wikipedia-style title key: underscores as spaces, single spaces, first letter upper-case."""
    text = " ".join(title.replace("_", " ").split())
    return text[:1].upper() + text[1:]


def content_line(entity: Entity) -> bytes:
    """One entity's share of the store fingerprint (the digest runs over these lines in row order)."""
    content = [entity.id, entity.title, entity.description, entity.aliases, entity.types, entity.alt_ids]
    return json.dumps(content).encode("utf-8") + b"\n"


def _entity_from_row(values: Sequence[str]) -> Entity:
    entity_id, title, description, aliases, types, alt_ids = values
    return Entity(
        id=entity_id,
        title=title,
        description=description,
        aliases=tuple(json.loads(aliases)),
        types=tuple(json.loads(types)),
        alt_ids=tuple(json.loads(alt_ids)),
    )


class KnowledgeBase:
    """Read access to a built entity store."""

    def __init__(self, path: Path) -> None:
        require_file(path, "entity store")
        self.path = path
        # a URI, so that '#', '?' or '%' in the path are quoted and mode=ro is never cut off
        uri = path.resolve().as_uri() + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise EntQAError("E080", path=path, detail=str(exc)) from None
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
            self.fingerprint: str = meta["fingerprint"]
            self._count = int(meta["count"])
        except (sqlite3.DatabaseError, KeyError, ValueError) as exc:
            self._db.close()
            detail = (
                f"{path.name}: {exc}" if not isinstance(exc, KeyError) else f"{path.name}: no {exc} entry"
            )
            raise EntQAError("E035", path=path.parent, detail=detail) from None

    @classmethod
    def build(
        cls, entities: Iterable[SourceEntity], path: Path, source: Path, bad: BadRowLog
    ) -> KnowledgeBase:
        """Write a store from an entity stream, atomically. Duplicate ids go to ``bad``."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        try:
            cls._fill(db, entities, source, bad)
        except BaseException:
            db.close()
            tmp.unlink(missing_ok=True)
            raise
        db.close()
        tmp.replace(path)
        return cls(path)

    @staticmethod
    def _fill(db: sqlite3.Connection, entities: Iterable[SourceEntity], source: Path, bad: BadRowLog) -> None:
        """Insert rows in stream order, then the lookup indexes and the fingerprint."""
        db.executescript(_SCHEMA)
        digest = hashlib.sha256()
        row = 0
        with db:
            for item in entities:
                e = item.entity
                values = entity_values(item)
                try:
                    db.execute("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (row, *values))
                except sqlite3.IntegrityError:
                    (first_line,) = db.execute("SELECT line FROM entities WHERE id = ?", (e.id,)).fetchone()
                    bad.report(
                        EntQAError("E007", path=source, line=item.line, entity_id=e.id, first_line=first_line)
                    )
                    continue
                db.executemany("INSERT INTO alt_ids VALUES (?, ?)", [(a, row) for a in e.alt_ids])
                digest.update(content_line(e))
                row += 1
            db.executescript(_INDEXES)
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("fingerprint", digest.hexdigest()[:16]), ("count", str(row)), ("source", str(source))],
            )

    def __len__(self) -> int:
        return self._count

    def by_row(self, row: int) -> Entity:
        (entity,) = self.by_rows([row])
        return entity

    def by_rows(self, rows: Sequence[int]) -> list[Entity]:
        """Entities for vector rows, in the given order."""
        unique = sorted(set(int(r) for r in rows))
        found: dict[int, Entity] = {}
        for start in range(0, len(unique), 900):
            chunk = unique[start : start + 900]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT row, {_COLUMNS} FROM entities WHERE row IN ({marks})"
            for values in self._db.execute(query, chunk):
                found[values[0]] = _entity_from_row(values[1:])
        return [found[int(r)] for r in rows]

    def ids_of_rows(self, rows) -> dict[int, str]:
        """Entity id per KB row, for a set of rows (one query)."""
        ordered = sorted({int(r) for r in rows})
        return {row: entity.id for row, entity in zip(ordered, self.by_rows(ordered))}

    def row_of(self, entity_id: str) -> int | None:
        hit = self._db.execute("SELECT row FROM entities WHERE id = ?", (entity_id,)).fetchone()
        return hit[0] if hit else None

    def by_id(self, entity_id: str) -> Entity | None:
        row = self.row_of(entity_id)
        return self.by_row(row) if row is not None else None

    def rows_by_title(self, title: str) -> list[int]:
        """Rows whose title matches exactly, else after normalisation (underscores, first letter)."""
        exact = [r for (r,) in self._db.execute("SELECT row FROM entities WHERE title = ?", (title,))]
        if exact:
            return exact
        query = "SELECT row FROM entities WHERE title_norm = ?"
        return [r for (r,) in self._db.execute(query, (normalize_title(title),))]

    def rows_by_alt_id(self, alt_id: str) -> list[int]:
        return [r for (r,) in self._db.execute("SELECT row FROM alt_ids WHERE alt_id = ?", (alt_id,))]

    def iter_entities(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Entity]]:
        """Entities in row order from ``start`` (inclusive) to ``stop`` (exclusive; None: to the end).
        Rows of an index changed in place may have gaps (removed entities) until it is compacted."""
        stop = -1 if stop is None else stop
        query = f"SELECT row, {_COLUMNS} FROM entities WHERE row >= ? AND (? < 0 OR row < ?) ORDER BY row"
        for values in self._db.execute(query, (start, stop, stop)):
            yield values[0], _entity_from_row(values[1:])

    def close(self) -> None:
        self._db.close()
