"""Change a built index without rebuilding it: add (or re-encode) entities, remove them, compact.

``add`` encodes only the given entities, with the encoder and text settings the manifest records,
appends their vectors (and alias rows) and adds them to the faiss structure (for ivfpq, to the
quantiser trained at build time). An id already in the index is an error, re-encoded (``update``:
its old rows become dead, the new ones map to the same entity row) or left alone (``skip``).
``remove`` tombstones entities: they leave the store and their vector rows map to -1, so search
never returns them. ``compact`` rewrites the vectors without dead rows, renumbers the store's
rows and rebuilds the faiss structure (retraining an ivfpq quantiser).

Each change is one commit (``entqa_kit.index.commit``): killed at any point before its journal is
written, the index is as it was; after, it is the new one. The manifest's KB fingerprint and counts
follow every change, and the fingerprint equals that of a build from the changed KB.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import read_bytes
from entqa_kit.core.progress import progress_bar
from entqa_kit.core.records import Entity, SourceEntity
from entqa_kit.index.commit import Update, updating
from entqa_kit.index.dense import (
    FAISS_INDEX,
    KB_STORE,
    MANIFEST,
    VECTORS,
    DenseIndex,
    IndexManifest,
    _mismatch,
    build_faiss,
    now_iso,
)
from entqa_kit.index.kb_source import open_kb
from entqa_kit.index.rows import DEAD, ENTITY_ROWS, identity, row_entities, write_entity_rows
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.read_options import ReadOptions
from entqa_kit.kb.edit import compact_store, copy_store, edit_store, next_row
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.models.encoder import TextEncoder

OnDuplicate = Literal["error", "update", "skip"]
RETRAIN_GROWTH = 0.5
"""ivfpq: advise retraining the quantiser once the index has this much more rows than it was trained on."""
COMPACT_DEAD = 0.2
"""Advise compacting once this share of the vector rows is dead."""
_HISTORY = 100
_ENCODE_CHUNK = 4096

Step = Callable[[str], None]


@dataclass(frozen=True)
class IndexChange:
    """What a change did, and the index after it."""

    directory: Path
    operation: str
    entities: int
    rows: int
    dead_rows: int
    kb_fingerprint: str
    seconds: float
    added: int = 0
    updated: int = 0
    skipped: int = 0
    removed: int = 0
    dropped_rows: int = 0
    """compact: dead vector rows dropped."""
    skipped_rows: int = 0
    advice: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "index": str(self.directory),
            "operation": self.operation,
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "removed": self.removed,
            "dropped_rows": self.dropped_rows,
            "entities": self.entities,
            "rows": self.rows,
            "dead_rows": self.dead_rows,
            "kb_fingerprint": self.kb_fingerprint,
            "skipped_rows": self.skipped_rows,
            "seconds": round(self.seconds, 2),
            "advice": self.advice,
        }


def _no_step(_: str) -> None:
    pass


@contextlib.contextmanager
def _new_entities(
    source: Path | Iterable[Entity], kb_format: str | None, read_options: ReadOptions | None
) -> Iterator[tuple[KnowledgeBase, str, int]]:
    """The entities to add as a temporary store: read from a KB file (any adapter), or given."""
    if isinstance(source, (str, Path)):
        with open_kb(Path(source), kb_format, read_options) as opened:
            yield opened.kb, str(source), opened.skipped_rows
        return
    items = (SourceEntity(line=i + 1, entity=e) for i, e in enumerate(source))
    with tempfile.TemporaryDirectory(prefix="entqa-add-") as tmp:
        kb = KnowledgeBase.build(items, Path(tmp) / KB_STORE, Path("<entities>"), BadRowLog(False))
        try:
            yield kb, "<entities>", 0
        finally:
            kb.close()


def _ids_list(ids: list[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:5])
    return shown + (f", ... {len(ids) - 5:,} more" if len(ids) > 5 else "")


def _history(manifest: IndexManifest, entry: dict[str, str | int]) -> list[dict[str, str | int]]:
    return [*manifest.changes, {**entry, "at": now_iso()}][-_HISTORY:]


def _advice(directory: Path, manifest: IndexManifest) -> list[str]:
    found = []
    trained = manifest.trained_rows
    if manifest.index_type == "ivfpq" and trained and manifest.count > trained * (1 + RETRAIN_GROWTH):
        growth = manifest.count / trained - 1
        found.append(
            f"the index has {growth:.0%} more rows than its ivfpq quantiser was trained on; retrain it with "
            f"'entqa-kit index compact {directory}'"
        )
    if manifest.count and manifest.dead_rows > COMPACT_DEAD * manifest.count:
        found.append(
            f"{manifest.dead_rows:,} of {manifest.count:,} vector rows are removed entities; reclaim them "
            f"with 'entqa-kit index compact {directory}'"
        )
    return found


def _stage_manifest(update: Update, manifest: IndexManifest) -> None:
    write_json_atomic(update.stage(MANIFEST), manifest.model_dump(mode="json"))


def _change(
    directory: Path, operation: str, manifest: IndexManifest, started: float, **counts
) -> IndexChange:
    return IndexChange(
        directory,
        operation,
        manifest.entity_count,
        manifest.count,
        manifest.dead_rows,
        manifest.kb_fingerprint,
        time.perf_counter() - started,
        advice=_advice(directory, manifest),
        **counts,
    )


def _append_vectors(
    directory: Path,
    manifest: IndexManifest,
    encoder: TextEncoder,
    texts: list[Entity],
    batch_size: int,
    quiet: bool,
) -> np.ndarray:
    """Encode ``texts`` and append them to the vector file past the committed rows (a tail readers
    ignore until the commit); returns them as float32 for the faiss structure."""
    path = directory / VECTORS
    committed = manifest.count * manifest.dim * 2
    encoded = []
    with path.open("r+b") as handle, progress_bar("Encoding entities", len(texts), quiet) as advance:
        handle.truncate(committed)  # the tail of an update that never committed
        handle.seek(committed)
        for start in range(0, len(texts), _ENCODE_CHUNK):
            chunk = encoder.encode_entities(texts[start : start + _ENCODE_CHUNK], batch_size, advance)
            handle.write(np.ascontiguousarray(chunk, dtype=np.float16).tobytes())
            encoded.append(np.asarray(chunk, dtype=np.float16).astype(np.float32))
        handle.flush()
        os.fsync(handle.fileno())
    return np.concatenate(encoded) if encoded else np.zeros((0, manifest.dim), dtype=np.float32)


def _write_faiss(faiss_index, path: Path) -> None:
    import faiss

    faiss.write_index(faiss_index, str(path))


def add_entities(
    directory: Path,
    source: Path | Iterable[Entity],
    on_duplicate: OnDuplicate = "error",
    kb_format: str | None = None,
    read_options: ReadOptions | None = None,
    encoder: TextEncoder | None = None,
    batch_size: int = 64,
    quiet: bool = False,
    on_step: Step = _no_step,
) -> IndexChange:
    """Add the entities of ``source`` (a KB file in any format, or Entity records) to the index."""
    started = time.perf_counter()
    if on_duplicate not in ("error", "update", "skip"):
        raise EntQAError("E155", path=directory, value=on_duplicate)
    IndexManifest.read(directory)  # E030/E032/E035 before anything else
    with updating(directory) as update:
        index = DenseIndex.load(directory)
        manifest = index.manifest
        with _new_entities(source, kb_format, read_options) as (new_kb, source_name, skipped_rows):
            fresh: list[SourceEntity] = []
            existing: list[tuple[int, SourceEntity]] = []
            for row, entity in new_kb.iter_entities():
                item = SourceEntity(line=row + 1, entity=entity)
                old_row = index.kb.row_of(entity.id)
                (fresh.append(item) if old_row is None else existing.append((old_row, item)))
        if existing and on_duplicate == "error":
            ids = [item.entity.id for _, item in existing]
            raise EntQAError("E150", path=source_name, count=len(ids), index=directory, ids=_ids_list(ids))
        skipped = len(existing) if on_duplicate == "skip" else 0
        if on_duplicate == "skip":
            existing = []
        first = next_row(directory / KB_STORE)
        put = existing + [(first + i, item) for i, item in enumerate(fresh)]
        if not put:
            index.kb.close()
            return _change(directory, "add", manifest, started, skipped=skipped, skipped_rows=skipped_rows)

        encoder = encoder or TextEncoder.load(manifest.encoder)
        if encoder.fingerprint != manifest.model_fingerprint:
            raise _mismatch(directory, manifest, "model", encoder.fingerprint)
        texts, owners = [], []
        for row, item in put:
            for text in row_entities(item.entity, manifest.alias_rows):
                texts.append(text)
                owners.append(row)
        new_vectors = _append_vectors(directory, manifest, encoder, texts, batch_size, quiet)
        on_step("encoded")

        old_map = index.entity_rows if index.entity_rows is not None else identity(manifest.count)
        replaced = np.isin(old_map, np.asarray([row for row, _ in existing], dtype=np.int32)) & (old_map >= 0)
        new_map = np.concatenate([np.where(replaced, DEAD, old_map), np.asarray(owners, dtype=np.int32)])
        if index.entity_rows is not None or replaced.any() or manifest.alias_rows:
            write_entity_rows(update.stage(ENTITY_ROWS), new_map)
        if index.faiss_index is not None:
            index.faiss_index.add(new_vectors)
            _write_faiss(index.faiss_index, update.stage(FAISS_INDEX))
        index.kb.close()
        copy_store(directory / KB_STORE, update.stage(KB_STORE))
        state = edit_store(update.stage(KB_STORE), put, delete=[])
        new_manifest = manifest.model_copy(
            update={
                "count": len(new_map),
                "entities": state.count,
                "kb_fingerprint": state.fingerprint,
                "dead_rows": manifest.dead_rows + int(replaced.sum()),
                "changes": _history(
                    manifest,
                    {
                        "operation": "add",
                        "source": source_name,
                        "added": len(fresh),
                        "updated": len(existing),
                    },
                ),
            }
        )
        _stage_manifest(update, new_manifest)
        on_step("staged")
        update.commit(MANIFEST)
        on_step("committed")
    return _change(
        directory,
        "add",
        new_manifest,
        started,
        added=len(fresh),
        updated=len(existing),
        skipped=skipped,
        skipped_rows=skipped_rows,
    )


def read_ids(path: Path) -> list[str]:
    """Entity ids, one per line; blank lines and lines starting with '#' are ignored."""
    text = read_bytes(path).decode("utf-8", errors="replace")
    ids = [line.strip() for line in text.splitlines()]
    ids = [i for i in ids if i and not i.startswith("#")]
    if not ids:
        raise EntQAError("E153", path=path)
    return list(dict.fromkeys(ids))


def remove_entities(
    directory: Path,
    ids: Path | Iterable[str],
    ignore_missing: bool = False,
    on_step: Step = _no_step,
) -> IndexChange:
    """Remove entities by id: gone from the store, their vector rows dead (``compact`` drops them)."""
    started = time.perf_counter()
    source = str(ids) if isinstance(ids, (str, Path)) else "<ids>"
    wanted = read_ids(Path(ids)) if isinstance(ids, (str, Path)) else list(dict.fromkeys(ids))
    if not wanted:
        raise EntQAError("E153", path=source)
    IndexManifest.read(directory)
    with updating(directory) as update:
        index = DenseIndex.load(directory)
        manifest = index.manifest
        rows = {i: index.kb.row_of(i) for i in wanted}
        index.kb.close()
        missing = [i for i, row in rows.items() if row is None]
        if missing and not ignore_missing:
            raise EntQAError("E151", path=source, count=len(missing), index=directory, ids=_ids_list(missing))
        gone = np.asarray(sorted(r for r in rows.values() if r is not None), dtype=np.int32)
        if len(gone) == 0:
            return _change(directory, "remove", manifest, started)
        if len(gone) >= manifest.entity_count:
            raise EntQAError("E154", path=directory, count=len(gone))
        old_map = index.entity_rows if index.entity_rows is not None else identity(manifest.count)
        dead = np.isin(old_map, gone) & (old_map >= 0)
        write_entity_rows(update.stage(ENTITY_ROWS), np.where(dead, DEAD, old_map))
        copy_store(directory / KB_STORE, update.stage(KB_STORE))
        state = edit_store(update.stage(KB_STORE), put=[], delete=[int(r) for r in gone])
        new_manifest = manifest.model_copy(
            update={
                "entities": state.count,
                "kb_fingerprint": state.fingerprint,
                "dead_rows": manifest.dead_rows + int(dead.sum()),
                "changes": _history(
                    manifest, {"operation": "remove", "source": source, "removed": len(gone)}
                ),
            }
        )
        _stage_manifest(update, new_manifest)
        on_step("staged")
        update.commit(MANIFEST)
    return _change(directory, "remove", new_manifest, started, removed=len(gone))


def compact_index(directory: Path, quiet: bool = False, on_step: Step = _no_step) -> IndexChange:
    """Rewrite the index without dead rows, store rows renumbered 0..n-1 (the fingerprint stays),
    vectors in entity order (as a build lays them out), the faiss structure rebuilt (ivfpq retrained)."""
    started = time.perf_counter()
    IndexManifest.read(directory)
    with updating(directory) as update:
        index = DenseIndex.load(directory)
        manifest = index.manifest
        index.kb.close()
        old_map = index.entity_rows if index.entity_rows is not None else identity(manifest.count)
        live = np.nonzero(old_map >= 0)[0]
        order = live[np.argsort(old_map[live], kind="stable")]  # entity order; title row first within each
        renumber = compact_store(directory / KB_STORE, update.stage(KB_STORE))
        lookup = np.full(int(old_map.max(initial=-1)) + 1, DEAD, dtype=np.int32)
        for old, new in renumber.items():
            lookup[old] = new
        new_map = lookup[old_map[order]]
        out = np.memmap(update.stage(VECTORS), dtype=np.float16, mode="w+", shape=(len(order), manifest.dim))
        with progress_bar("Copying vectors", len(order), quiet) as advance:
            for start in range(0, len(order), 65536):
                part = order[start : start + 65536]
                out[start : start + len(part)] = index.vectors[part]
                advance(len(part))
        out.flush()
        if np.array_equal(new_map, identity(len(order))) and not manifest.alias_rows:
            update.remove(ENTITY_ROWS)
        else:
            write_entity_rows(update.stage(ENTITY_ROWS), new_map)
        faiss_index = build_faiss(out, manifest.index.model_copy(update={"index_type": manifest.index_type}))
        del out
        if faiss_index is not None:
            _write_faiss(faiss_index, update.stage(FAISS_INDEX))
        new_manifest = manifest.model_copy(
            update={
                "count": len(order),
                "dead_rows": 0,
                "trained_rows": len(order) if manifest.index_type == "ivfpq" else None,
                "changes": _history(
                    manifest, {"operation": "compact", "dropped_rows": manifest.count - len(order)}
                ),
            }
        )
        _stage_manifest(update, new_manifest)
        on_step("staged")
        update.commit(MANIFEST)
    return _change(directory, "compact", new_manifest, started, dropped_rows=manifest.count - len(order))
