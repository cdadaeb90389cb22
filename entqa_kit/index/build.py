"""Build an index from a KB file: entity store, resumable encoding, faiss, manifest.

Encoding goes shard by shard into a preallocated fp16 memmap. After each shard,
``progress.json`` is rewritten atomically; rerunning the same command after a
kill continues from the last finished shard. The manifest is written last.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.config import EncoderConfig, IndexConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import check_out_dir
from entqa_kit.core.progress import progress_bar
from entqa_kit.core.records import Entity
from entqa_kit.index.commit import JOURNAL, STAGED, discard_staged
from entqa_kit.index.dense import (
    FAISS_INDEX,
    KB_STORE,
    MANIFEST,
    PROGRESS,
    VECTORS,
    IndexManifest,
    build_faiss,
    library_versions,
    now_iso,
    open_vectors,
)
from entqa_kit.index.differences import fingerprint_parts, input_differences
from entqa_kit.index.rows import ENTITY_ROWS, alias_row_layout, layout_entities, write_entity_rows
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.read_options import ReadOptions
from entqa_kit.kb.registry import get_adapter
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.models.encoder import TextEncoder

SKIPPED_ROWS = "skipped_rows.jsonl"

ShardMap = Callable[
    [TextEncoder, Iterator[tuple[int, list[Entity]]], int, Callable[[int], None]],
    Iterator[tuple[int, np.ndarray]],
]
"""Encodes ``(shard, entities)`` jobs into ``(shard, float32 vectors)`` in shard order; arguments:
the build's encoder, the jobs, the batch size and a progress callback (entities done)."""


class BuildProgress(BaseModel):
    """The resumable state of an unfinished build."""

    model_fingerprint: str
    kb_fingerprint: str
    count: int
    dim: int
    shard_size: int
    shards_done: int = 0
    encoder_parts: dict[str, str | int | bool | None] | None = None
    kb_source: str | None = None
    alias_rows: int = 0


@dataclass(frozen=True)
class IndexBuildResult:
    directory: Path
    count: int
    dim: int
    skipped_rows: int
    resumed_from: int
    encoded: int
    seconds: float
    reused: bool
    index_type: str = "flat"
    encode_seconds: float = 0.0
    """The encoding alone (no KB reading, model loading or faiss building)."""
    rows: int | None = None
    """Vector rows (entities plus alias rows); None: one per entity."""

    @property
    def entities_per_second(self) -> float:
        """Encoding throughput: entities encoded per second of encoding."""
        return self.encoded / self.encode_seconds if self.encode_seconds > 0 else 0.0

    def as_json(self) -> dict:
        return {
            "index": str(self.directory),
            "count": self.count,
            "dim": self.dim,
            "skipped_rows": self.skipped_rows,
            "encoded": self.encoded,
            "resumed_from": self.resumed_from,
            "seconds": round(self.seconds, 2),
            "entities_per_second": round(self.entities_per_second, 1),
            "reused": self.reused,
            "index_type": self.index_type,
            "rows": self.rows if self.rows is not None else self.count,
        }


def build_index(
    kb_file: Path,
    out_dir: Path,
    encoder_config: EncoderConfig | None = None,
    index_config: IndexConfig | None = None,
    read_options: ReadOptions | None = None,
    kb_format: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    encoder: TextEncoder | None = None,
    on_shard: Callable[[int], None] | None = None,
    alias_rows: int = 0,
    encode_map: ShardMap | None = None,
) -> IndexBuildResult:
    """Index ``kb_file`` into ``out_dir``; resume an unfinished build of the same inputs.

    ``alias_rows`` > 0 indexes up to that many aliases of each entity as extra vector rows of it
    (the alias in the title slot, the same description: the entity text the model knows), and
    search returns each entity once, by its best row (see ``entqa_kit.index.rows``)."""
    started = time.perf_counter()
    encoder_config = encoder_config or (encoder.config if encoder else EncoderConfig())
    index_config = index_config or IndexConfig()
    read_options = read_options or ReadOptions()
    adapter = get_adapter(kb_file, kb_format)
    check_out_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / JOURNAL).exists() or any(out_dir.glob("*" + STAGED)):
        discard_staged(out_dir)  # an in-place update killed here: finish or drop it first

    bad = BadRowLog(read_options.skip_bad)
    new_store = out_dir / (KB_STORE + ".new")
    kb = KnowledgeBase.build(adapter.read(kb_file, read_options, bad), new_store, kb_file, bad)
    with _discard_on_error(kb, new_store):
        if len(kb) == 0:
            if (out_dir / MANIFEST).is_file() and not overwrite:  # never write into another index
                raise EntQAError("E111", path=kb_file, skipped=len(bad))
            _write_skipped(out_dir, bad)
            raise EntQAError("E015", path=kb_file, skipped=len(bad), sidecar=out_dir / SKIPPED_ROWS)
        index_config = index_config.resolved(len(kb))
        encoder = encoder or TextEncoder.load(encoder_config)
        fingerprints = {"model": encoder.fingerprint, "KB": kb.fingerprint}

        manifest = _existing_manifest(out_dir, overwrite)
        if manifest is not None:
            same = (
                manifest.model_fingerprint == fingerprints["model"]
                and manifest.kb_fingerprint == kb.fingerprint
                and manifest.index_type == index_config.index_type
                and manifest.alias_rows == alias_rows
            )
            if same and not overwrite:
                _write_skipped(out_dir, bad)
                kb.close()
                new_store.unlink()
                return IndexBuildResult(
                    out_dir,
                    manifest.entity_count,
                    manifest.dim,
                    len(bad),
                    manifest.count,
                    0,
                    time.perf_counter() - started,
                    reused=True,
                    index_type=manifest.index_type,
                    rows=manifest.count,
                )
            if not overwrite:
                detail = input_differences(
                    stored_model=manifest.model_fingerprint,
                    given_model=fingerprints["model"],
                    stored_parts=manifest.encoder_parts,
                    stored_config=manifest.encoder,
                    stored_kb=manifest.kb_fingerprint,
                    given_kb=kb.fingerprint,
                    stored_source=manifest.kb_source,
                    given_source=kb_file,
                    stored_index_type=manifest.index_type,
                    given_index_type=index_config.index_type,
                    stored_alias_rows=manifest.alias_rows,
                    given_alias_rows=alias_rows,
                )
                raise EntQAError("E036", path=out_dir, detail=detail)
            (out_dir / MANIFEST).unlink()

        _write_skipped(out_dir, bad)  # only now: a refused run must not touch another index's files
        layout = alias_row_layout(kb, alias_rows) if alias_rows else None
        rows = len(kb) if layout is None else len(layout[0])
        state = _resume_state(
            out_dir,
            fingerprints,
            rows,
            encoder.dim,
            index_config.shard_size,
            overwrite,
            str(kb_file),
            alias_rows,
        )
    entity_count = len(kb)
    kb.close()
    new_store.replace(out_dir / KB_STORE)
    kb = KnowledgeBase(out_dir / KB_STORE)
    resumed_from = min(state.shards_done * state.shard_size, state.count)
    encode_started = time.perf_counter()
    _encode_shards(kb, encoder, out_dir, state, index_config.batch_size, quiet, on_shard, layout, encode_map)
    encode_seconds = time.perf_counter() - encode_started
    if layout is None:
        (out_dir / ENTITY_ROWS).unlink(missing_ok=True)
    else:
        rows_tmp = out_dir / (ENTITY_ROWS + ".tmp")
        write_entity_rows(rows_tmp, layout[0])
        rows_tmp.replace(out_dir / ENTITY_ROWS)

    vectors = open_vectors(out_dir, state.count, state.dim)
    faiss_index = build_faiss(vectors, index_config)
    if faiss_index is not None:
        _write_faiss(faiss_index, out_dir / FAISS_INDEX)
    else:
        (out_dir / FAISS_INDEX).unlink(missing_ok=True)
    IndexManifest(
        dim=state.dim,
        count=state.count,
        index_type=index_config.index_type,
        model_fingerprint=fingerprints["model"],
        kb_fingerprint=kb.fingerprint,
        encoder=encoder_config,
        encoder_parts=fingerprint_parts(fingerprints["model"]),
        index=index_config,
        kb_source=str(kb_file),
        kb_format=adapter.name,
        skipped_rows=len(bad),
        created=now_iso(),
        versions=library_versions(),
        entities=entity_count,
        alias_rows=alias_rows,
        trained_rows=state.count if index_config.index_type == "ivfpq" else None,
    ).write(out_dir)
    (out_dir / PROGRESS).unlink(missing_ok=True)
    kb.close()
    return IndexBuildResult(
        out_dir,
        entity_count,
        state.dim,
        len(bad),
        resumed_from,
        state.count - resumed_from,
        time.perf_counter() - started,
        reused=False,
        index_type=index_config.index_type,
        encode_seconds=encode_seconds,
        rows=state.count,
    )


def _write_skipped(out_dir: Path, bad: BadRowLog) -> None:
    """The skipped-rows sidecar of this build; none (an older one removed) when no row was skipped."""
    if bad.rows:
        bad.write_sidecar(out_dir / SKIPPED_ROWS)
    else:
        (out_dir / SKIPPED_ROWS).unlink(missing_ok=True)


def _existing_manifest(out_dir: Path, overwrite: bool) -> IndexManifest | None:
    """The manifest of the complete index in ``out_dir``, if any. A damaged one is E035, or is
    removed when overwriting (--overwrite always recovers)."""
    if not (out_dir / MANIFEST).is_file():
        return None
    try:
        return IndexManifest.read(out_dir)
    except EntQAError:
        if not overwrite:
            raise
        (out_dir / MANIFEST).unlink()
        return None


def _read_progress(progress_file: Path) -> BuildProgress | None:
    """The saved state of an unfinished build; None when there is none or it is damaged (a damaged
    one only costs a fresh start: the build is encoded again from the first shard)."""
    if not progress_file.is_file():
        return None
    try:
        return BuildProgress.model_validate_json(progress_file.read_bytes())
    except (OSError, ValueError):
        return None


@contextmanager
def _discard_on_error(kb: KnowledgeBase, new_store: Path) -> Iterator[None]:
    """Remove the freshly built store if the build stops before it is put in place."""
    try:
        yield
    except BaseException:
        kb.close()
        new_store.unlink(missing_ok=True)
        raise


def _resume_state(
    out_dir: Path,
    fingerprints: dict[str, str],
    count: int,
    dim: int,
    shard_size: int,
    overwrite: bool,
    kb_source: str | None = None,
    alias_rows: int = 0,
) -> BuildProgress:
    fresh = BuildProgress(
        model_fingerprint=fingerprints["model"],
        kb_fingerprint=fingerprints["KB"],
        count=count,
        dim=dim,
        shard_size=shard_size,
        encoder_parts=fingerprint_parts(fingerprints["model"]),
        kb_source=kb_source,
        alias_rows=alias_rows,
    )
    progress_file = out_dir / PROGRESS
    vectors_file = out_dir / VECTORS
    state = _read_progress(progress_file) if vectors_file.is_file() and not overwrite else None
    if state is not None:
        if (state.model_fingerprint, state.kb_fingerprint) != (fingerprints["model"], fingerprints["KB"]):
            detail = input_differences(
                stored_model=state.model_fingerprint,
                given_model=fingerprints["model"],
                stored_parts=state.encoder_parts,
                stored_config=None,
                stored_kb=state.kb_fingerprint,
                given_kb=fingerprints["KB"],
                stored_source=state.kb_source,
                given_source=kb_source,
            )
            raise EntQAError("E033", path=out_dir, detail=detail)
        expected_size = state.count * state.dim * 2
        same_layout = (state.count, state.dim, state.alias_rows) == (count, dim, alias_rows)
        if same_layout and vectors_file.stat().st_size == expected_size:
            return state
    for stale in (progress_file, vectors_file, out_dir / FAISS_INDEX):
        stale.unlink(missing_ok=True)
    open_vectors(out_dir, count, dim, mode="w+").flush()
    write_json_atomic(progress_file, fresh.model_dump())
    return fresh


def _encode_shards(
    kb: KnowledgeBase,
    encoder: TextEncoder,
    out_dir: Path,
    state: BuildProgress,
    batch_size: int,
    quiet: bool,
    on_shard: Callable[[int], None] | None,
    layout: tuple[np.ndarray, np.ndarray] | None = None,
    encode_map: ShardMap | None = None,
) -> None:
    vectors = open_vectors(out_dir, state.count, state.dim, mode="r+")
    total_shards = -(-state.count // state.shard_size)
    done_rows = min(state.shards_done * state.shard_size, state.count)

    def shard_entities(shard: int) -> tuple[int, list]:
        start = shard * state.shard_size
        stop = min(start + state.shard_size, state.count)
        if layout is None:
            return shard, [e for _, e in kb.iter_entities(start, stop)]
        return shard, layout_entities(kb, layout[0][start:stop], layout[1][start:stop], state.alias_rows)

    jobs = (shard_entities(shard) for shard in range(state.shards_done, total_shards))
    with progress_bar("Encoding entities", state.count, quiet, done=done_rows) as advance:
        if encode_map is None:
            encoded = ((shard, encoder.encode_entities(e, batch_size, advance)) for shard, e in jobs)
        else:  # e.g. Ray tasks (entqa_kit.distributed.ray_index): shards come back in order
            encoded = encode_map(encoder, jobs, batch_size, advance)
        for shard, shard_vectors in encoded:
            start = shard * state.shard_size
            stop = min(start + state.shard_size, state.count)
            vectors[start:stop] = shard_vectors.astype("float16")
            vectors.flush()
            state.shards_done = shard + 1
            write_json_atomic(out_dir / PROGRESS, state.model_dump())
            if on_shard is not None:
                on_shard(shard)
    del vectors


def _write_faiss(faiss_index, path: Path) -> None:
    import faiss

    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(faiss_index, str(tmp))
    tmp.replace(path)
