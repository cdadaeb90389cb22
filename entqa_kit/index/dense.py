"""The dense index: fp16 vector memmap, faiss index, manifest; load and search.

An index directory holds fixed file names:

- ``manifest.json``: dim, count, index type, model and KB fingerprints, versions.
  Written last; its presence means the build is complete.
- ``kb.sqlite``: the entity store (row i is vector row i, unless ``entity_rows.i32`` maps them).
- ``vectors.f16``: the entity vectors, ``[count, dim]`` float16, memory-mapped (rows past ``count``
  are the tail of an update that never committed, and are ignored).
- ``entity_rows.i32``: with alias rows or after changes in place, the entity row of every vector row
  (-1: removed); see ``entqa_kit.index.rows``. Changes are committed as in ``entqa_kit.index.commit``.
- ``faiss.index``: the search structure for ``hnsw`` and ``ivfpq`` (``flat`` needs none: it
  scans the memory-mapped vectors exactly, a chunk at a time, so no fp32 copy is ever held).

``ivfpq`` keeps 32-byte codes in memory (about 40 MB per million entities) and rescores its best
``refine_factor × k`` candidates exactly from the fp16 vectors, so it loses little recall.

With ``--device cuda`` a flat index is scanned with torch on the GPU (``index.gpu_search``) and an
ivfpq index is searched by faiss-gpu (``index.faiss_gpu``); hnsw stays on the CPU.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.config import EncoderConfig, IndexConfig, IndexType
from entqa_kit.core.device import current_device
from entqa_kit.core.errors import EntQAError, reason
from entqa_kit.core.paths import read_bytes
from entqa_kit.core.records import SearchHit
from entqa_kit.kb.store import KnowledgeBase

MANIFEST = "manifest.json"
PROGRESS = "progress.json"
KB_STORE = "kb.sqlite"
VECTORS = "vectors.f16"
FAISS_INDEX = "faiss.index"
_CHUNK = 65536
_SCAN_CHUNK = 16384
_TIE_SPARE = 8


class IndexManifest(BaseModel):
    format_version: int = 1
    dim: int
    count: int
    index_type: IndexType
    model_fingerprint: str
    kb_fingerprint: str
    encoder: EncoderConfig
    encoder_parts: dict[str, str | int | bool | None] | None = None
    index: IndexConfig
    kb_source: str
    kb_format: str
    skipped_rows: int = 0
    created: str
    versions: dict[str, str]
    entities: int | None = Field(default=None, description="live entities (None: count, no alias rows)")
    alias_rows: int = Field(default=0, description="aliases indexed as extra rows per entity (0: none)")
    dead_rows: int = Field(default=0, description="vector rows of removed or re-encoded entities")
    trained_rows: int | None = Field(default=None, description="ivfpq: rows when the quantiser was trained")
    changes: list[dict[str, str | int]] = Field(default_factory=list, description="add/remove/compact log")

    @property
    def entity_count(self) -> int:
        return self.count if self.entities is None else self.entities

    @classmethod
    def read(cls, directory: Path) -> IndexManifest:
        path = directory / MANIFEST
        if not path.is_file():
            raise _incomplete_build(directory) or EntQAError("E030", path=directory)
        try:
            return cls.model_validate_json(read_bytes(path))
        except ValueError as exc:
            raise EntQAError(
                "E035", path=directory, detail=f"{MANIFEST} is unreadable: {reason(exc)}"
            ) from None

    def write(self, directory: Path) -> None:
        write_json_atomic(directory / MANIFEST, self.model_dump(mode="json"))


def _incomplete_build(directory: Path) -> EntQAError | None:
    """E032 when ``directory`` holds an unfinished build (build progress but no manifest yet)."""
    progress = directory / PROGRESS
    if not progress.is_file():
        return None
    try:
        state = json.loads(progress.read_bytes())
        total = int(state["count"])
        done = min(int(state["shards_done"]) * int(state["shard_size"]), total)
    except (OSError, ValueError, KeyError, TypeError):
        done, total = "?", "?"
    return EntQAError("E032", path=directory, done=done, total=total)


def library_versions() -> dict[str, str]:
    import faiss
    import torch
    import transformers

    from entqa_kit import __version__

    return {
        "entqa_kit": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "faiss": faiss.__version__,
    }


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_vectors(directory: Path, count: int, dim: int, mode: str = "r") -> np.memmap:
    return np.memmap(directory / VECTORS, dtype=np.float16, mode=mode, shape=(count, dim))


def _float_chunks(vectors: np.ndarray, rows: np.ndarray | None = None):
    """fp32 copies of the fp16 matrix, one chunk at a time (never the whole matrix)."""
    rows_total = len(vectors) if rows is None else len(rows)
    for start in range(0, rows_total, _CHUNK):
        part = vectors[start : start + _CHUNK] if rows is None else vectors[rows[start : start + _CHUNK]]
        yield np.ascontiguousarray(part, dtype=np.float32)


def build_faiss(vectors: np.ndarray, config: IndexConfig):
    """A faiss inner-product index over ``vectors`` (fp16 memmap), added chunk by chunk;
    None for ``flat``, which searches the memmap itself."""
    import faiss

    dim = vectors.shape[1]
    if config.index_type == "flat":
        return None
    if config.index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = _trained_ivfpq(vectors, config)
    for chunk in _float_chunks(vectors):
        index.add(chunk)
    return index


def exact_search(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k over an fp16 matrix, scanned in chunks converted one at a time.
    Equal scores are ordered by row (a few spare candidates keep ties at the cut too), so the result
    does not depend on k or on rows after the last one returned: an index with removed rows answers
    exactly as one built without them."""
    wanted, k = k, min(k + _TIE_SPARE, len(vectors))
    n = len(queries)
    best_scores = np.full((n, k), -np.inf, dtype=np.float32)
    best_rows = np.full((n, k), -1, dtype=np.int64)
    for start in range(0, len(vectors), _SCAN_CHUNK):
        chunk = np.asarray(vectors[start : start + _SCAN_CHUNK], dtype=np.float32)
        scores = queries @ chunk.T
        take = min(k, scores.shape[1])
        top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        merged_rows = np.concatenate([best_rows, top + start], axis=1)
        keep = np.argpartition(-merged_scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, keep, axis=1)
        best_rows = np.take_along_axis(merged_rows, keep, axis=1)
    order = np.lexsort((best_rows, -best_scores), axis=1)[:, :wanted]
    return np.take_along_axis(best_scores, order, axis=1), np.take_along_axis(best_rows, order, axis=1)


def rescore(
    vectors: np.ndarray, queries: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact scores of candidate ``rows`` per query (-1 = none), best ``k`` first."""
    safe = np.where(rows >= 0, rows, 0)
    unique, inverse = np.unique(safe, return_inverse=True)
    gathered = np.asarray(vectors[unique], dtype=np.float32)[inverse.reshape(safe.shape)]
    scores = np.einsum("nd,nkd->nk", queries, gathered)
    scores[rows < 0] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(rows, order, axis=1)


def _trained_ivfpq(vectors: np.ndarray, config: IndexConfig):
    import faiss

    count, dim = vectors.shape
    nlist = max(1, min(int(4 * math.sqrt(count)), count // 39, 4096))  # 4096 lists: ~1.5k codes each at 6M
    m = max(d for d in range(1, min(config.pq_bytes, dim) + 1) if dim % d == 0)
    nbits = min(8, max(1, int(math.log2(max(2, count // 39)))))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10  # coarse k-means: 10 iterations are within noise of faiss's 25 for recall
    rng = np.random.default_rng(0)
    sample_size = min(count, max(64 * nlist, 1 << (nbits + 6)), 200_000)
    sample = np.sort(rng.choice(count, size=sample_size, replace=False))
    index.train(np.concatenate(list(_float_chunks(vectors, sample))))
    index.nprobe = min(config.ivf_nprobe, nlist)
    return index


def refined_search(faiss_index, vectors: np.ndarray, queries: np.ndarray, k: int, refine_factor: int):
    """Approximate search for ``refine_factor × k`` candidates, then exact rescoring of those."""
    _, rows = faiss_index.search(queries, min(len(vectors), k * refine_factor))
    return rescore(vectors, queries, rows, k)


def _mismatch(directory: Path, manifest: IndexManifest, what: str, given: str) -> EntQAError:
    """E031 naming what differs: the encoder's weights, tokenizer or text settings, or the KB."""
    from entqa_kit.index.differences import encoder_differences

    if what == "model":
        detail = encoder_differences(
            manifest.encoder_parts, manifest.encoder, given, manifest.model_fingerprint
        )
        todo = (
            f"rebuild the index for this model ('entqa-kit index {manifest.kb_source} --out NEW_DIR "
            "--model MODEL') or use the model it was built with"
        )
        return EntQAError("E031", path=directory, what="entity encoder", detail=detail, todo=todo)
    if what == "KB":
        detail = (
            f"KB content (fingerprint {manifest.kb_fingerprint} != {given}; built from {manifest.kb_source})"
        )
        todo = "use the index built from this KB, or rebuild it with 'entqa-kit index KB --out NEW_DIR'"
        return EntQAError("E031", path=directory, what="KB", detail=detail, todo=todo)
    detail = (
        f"{KB_STORE} does not match {MANIFEST} ({given} != {manifest.kb_fingerprint}), so files were changed"
    )
    todo = f"rebuild the index: 'entqa-kit index {manifest.kb_source} --out {directory} --overwrite'"
    return EntQAError("E031", path=directory, what="KB store", detail=detail, todo=todo)


class DenseIndex:
    """A loaded index: manifest, entity store, vectors (memmap) and faiss structure."""

    def __init__(
        self,
        directory: Path,
        manifest: IndexManifest,
        kb: KnowledgeBase,
        faiss_index,
        entity_rows: np.ndarray | None = None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.kb = kb
        self.faiss_index = faiss_index
        self.entity_rows = entity_rows
        """vector row -> entity row (-1: removed); None: the same row (see ``entqa_kit.index.rows``)."""

    @classmethod
    def load(
        cls, directory: Path, model_fingerprint: str | None = None, kb_fingerprint: str | None = None
    ) -> DenseIndex:
        """Open an index; refuse it if it was built for another model or KB."""
        from entqa_kit.index.commit import reading

        with reading(directory):
            index = cls._open(directory, model_fingerprint, kb_fingerprint)
            _ = index.vectors  # mapped now: a later compaction replaces the file, not this mapping
        return index

    @classmethod
    def _open(cls, directory: Path, model_fingerprint: str | None, kb_fingerprint: str | None) -> DenseIndex:
        import faiss

        from entqa_kit.index.rows import read_entity_rows

        manifest = IndexManifest.read(directory)
        checks = (
            ("model", manifest.model_fingerprint, model_fingerprint),
            ("KB", manifest.kb_fingerprint, kb_fingerprint),
        )
        for what, stored, given in checks:
            if given is not None and stored != given:
                raise _mismatch(directory, manifest, what, given)
        kb = KnowledgeBase(directory / KB_STORE)
        if kb.fingerprint != manifest.kb_fingerprint:
            raise _mismatch(directory, manifest, "KB store", kb.fingerprint)
        expected = manifest.count * manifest.dim * 2
        if not (directory / VECTORS).is_file():
            raise EntQAError("E035", path=directory, detail=f"{VECTORS} is missing")
        size = (directory / VECTORS).stat().st_size
        if size < expected:
            raise EntQAError(
                "E035", path=directory, detail=f"{VECTORS} has {size} bytes, expected {expected}"
            )
        entity_rows = read_entity_rows(directory, manifest.count)
        if manifest.index_type == "flat":
            return cls(directory, manifest, kb, None, entity_rows)
        try:
            index = faiss.read_index(str(directory / FAISS_INDEX))
        except RuntimeError as exc:
            raise EntQAError("E035", path=directory, detail=str(exc).splitlines()[-1]) from None
        if index.ntotal != manifest.count or index.d != manifest.dim:
            raise EntQAError("E035", path=directory, detail=f"faiss holds {index.ntotal}x{index.d}")
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = manifest.index.hnsw_ef_search
        if hasattr(index, "nprobe"):
            index.nprobe = min(manifest.index.ivf_nprobe, index.nlist)
        return cls(directory, manifest, kb, index, entity_rows)

    @cached_property
    def vectors(self) -> np.memmap:
        """The fp16 vectors, mapped once (pages are read on demand, never copied whole)."""
        return open_vectors(self.directory, self.manifest.count, self.manifest.dim)

    def entity_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The (title-row) vectors of entity rows: ``vectors[rows]`` unless vector rows are mapped
        (alias rows, changes in place), where an entity's first live vector row is its title row."""
        rows = np.asarray(rows)
        if self.entity_rows is None:
            return self.vectors[rows]
        live = np.nonzero(self.entity_rows >= 0)[0]
        entities, first = np.unique(self.entity_rows[live], return_index=True)
        table = np.full(int(entities.max(initial=-1)) + 1, -1, dtype=np.int64)
        table[entities] = live[first]
        return self.vectors[table[rows]]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and entity rows (of ``kb``), ``[n_queries, k]`` each, best first, one per entity;
        rows are -1 where fewer than k exist. Removed entities are never returned."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.entity_rows is None:
            return self.search_vectors(queries, k)
        from entqa_kit.index.rows import search_entities

        return search_entities(self.search_vectors, queries, k, self.entity_rows, self.manifest.entity_count)

    def search_vectors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and vector rows, ``[n_queries, k]`` each (alias and dead rows included)."""
        k = min(k, self.manifest.count)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        device = current_device()
        if self.faiss_index is None and device != "cpu":  # --device cuda: torch on the GPU
            from entqa_kit.index.gpu_search import device_vectors, torch_exact_search

            return torch_exact_search(device_vectors(self, device), queries, k)
        if self.faiss_index is None:
            return exact_search(self.vectors, queries, k)
        refine = self.manifest.index.refine_factor if self.manifest.index_type == "ivfpq" else 1
        searcher = self.faiss_index
        if device != "cpu":  # --device cuda: ivfpq on the GPU where faiss has one, hnsw on the CPU
            from entqa_kit.index.faiss_gpu import faiss_searcher

            searcher = faiss_searcher(self, device, k * refine)
        if self.manifest.index_type != "ivfpq":
            return searcher.search(queries, k)
        return refined_search(searcher, self.vectors, queries, k, refine)

    def search_hits(self, queries: np.ndarray, k: int) -> list[list[SearchHit]]:
        scores, rows = self.search(queries, k)
        results = []
        for query_scores, query_rows in zip(scores, rows):
            valid = [(float(s), int(r)) for s, r in zip(query_scores, query_rows) if r >= 0]
            entities = self.kb.by_rows([r for _, r in valid])
            results.append(
                [
                    SearchHit(rank=i + 1, id=e.id, title=e.title, score=s)
                    for i, ((s, _), e) in enumerate(zip(valid, entities))
                ]
            )
        return results

    def add(self, source, on_duplicate: str = "error", **options):
        """Add entities (a KB file or Entity records) in place (see ``index.update.add_entities``);
        this object then shows the changed index."""
        from entqa_kit.index.update import add_entities

        self.kb.close()
        try:
            return add_entities(self.directory, source, on_duplicate, **{"quiet": True, **options})
        finally:
            self._reload()

    def remove(self, ids, ignore_missing: bool = False):
        """Remove entities by id (a file of ids or an iterable); see ``index.update.remove_entities``."""
        from entqa_kit.index.update import remove_entities

        self.kb.close()
        try:
            return remove_entities(self.directory, ids, ignore_missing)
        finally:
            self._reload()

    def compact(self, quiet: bool = True):
        """Drop removed entities' rows for good; see :func:`entqa_kit.index.update.compact_index`."""
        from entqa_kit.index.update import compact_index

        self.kb.close()
        try:
            return compact_index(self.directory, quiet)
        finally:
            self._reload()

    def _reload(self) -> None:
        fresh = DenseIndex.load(self.directory)
        self.__dict__.clear()
        self.__dict__.update(fresh.__dict__)
