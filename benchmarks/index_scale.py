"""A Wikipedia-scale index on this machine: build, memory, size and search latency of the compressed index.

Writes N random unit vectors (dim 384, like MiniLM) as the fp16 memmap an index directory holds,
builds the ivfpq structure that `entqa-kit index` chooses above 250k entities (the same code:
`build_faiss`), then loads it back and searches with exact rescoring from the memmap
(`refined_search`). Random vectors have no cluster structure, so recall here says nothing;
the AIDA-A recall of ivfpq against flat is measured on real vectors by `--recall-index`.

Memory is sampled from /proc/self/status every 50 ms: RssAnon is the process's own memory
(the memmap's pages are file-backed page cache the kernel can drop, reported apart as RssFile).

Usage:
  python benchmarks/index_scale.py --entities 6000000 --out /tmp/scale-index
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from entqa_kit.core.config import IndexConfig
from entqa_kit.index.dense import VECTORS, build_faiss, open_vectors, refined_search


class MemorySampler:
    """Peak RssAnon and RssFile (MB) of this process, sampled in a background thread."""

    def __init__(self) -> None:
        self.peak = {"RssAnon": 0.0, "RssFile": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> dict[str, float]:
        values = {}
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in self.peak:
                values[key] = int(rest.split()[0]) / 1024
        return values

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, value in self._read().items():
                self.peak[key] = max(self.peak[key], value)
            time.sleep(0.05)

    def reset(self) -> None:
        self.peak = {key: 0.0 for key in self.peak}

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def write_random_vectors(directory: Path, count: int, dim: int, chunk: int = 262_144) -> float:
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    vectors = open_vectors(directory, count, dim, mode="w+")
    rng = np.random.default_rng(0)
    for start in range(0, count, chunk):
        block = rng.standard_normal((min(chunk, count - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start : start + len(block)] = block.astype(np.float16)
    vectors.flush()
    del vectors
    return time.perf_counter() - started


def search_only(args: argparse.Namespace) -> dict:
    """In a fresh process: load the index, then time searches; memory is this process's own."""
    import faiss

    config = IndexConfig().resolved(args.entities)
    with MemorySampler() as memory:
        before = memory._read()["RssAnon"]
        index = faiss.read_index(str(args.out / "faiss.index"))
        index.nprobe = min(config.ivf_nprobe, index.nlist)
        loaded = memory._read()["RssAnon"] - before
        vectors = open_vectors(args.out, args.entities, args.dim)
        rng = np.random.default_rng(1)
        queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        refined_search(index, vectors, queries[:8], args.k, config.refine_factor)  # warm up
        report = {
            "nlist": index.nlist,
            "nprobe": index.nprobe,
            "refine_factor": config.refine_factor,
            "loaded_index_rss_anon_mb": round(loaded),
            "loaded_rss_anon_mb_per_million": round(loaded / (args.entities / 1e6), 1),
        }
        for batch in (1, 64):
            started = time.perf_counter()
            for start in range(0, args.queries, batch):
                refined_search(index, vectors, queries[start : start + batch], args.k, config.refine_factor)
            report[f"search_ms_per_query_batch{batch}"] = round(
                1000 * (time.perf_counter() - started) / args.queries, 2
            )
        report["search_peak_rss_anon_mb"] = round(memory.peak["RssAnon"])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=6_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--out", type=Path, default=Path("/tmp/scale-index"))
    parser.add_argument("--queries", type=int, default=1024)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--search-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_only:
        print(json.dumps(search_only(args)), flush=True)
        return
    import faiss

    report: dict = {"machine_cores": os.cpu_count(), "entities": args.entities, "dim": args.dim}
    vectors_file = args.out / VECTORS
    if not vectors_file.is_file() or vectors_file.stat().st_size != args.entities * args.dim * 2:
        report["write_vectors_seconds"] = round(write_random_vectors(args.out, args.entities, args.dim), 1)
    report["vectors_file_gb"] = round(vectors_file.stat().st_size / 1e9, 2)
    config = IndexConfig().resolved(args.entities)
    report["index_type"] = config.index_type
    with MemorySampler() as memory:
        vectors = open_vectors(args.out, args.entities, args.dim)
        started = time.perf_counter()
        index = build_faiss(vectors, config)
        report["build_seconds"] = round(time.perf_counter() - started, 1)
        faiss.write_index(index, str(args.out / "faiss.index"))
        report["build_peak_rss_anon_mb"] = round(memory.peak["RssAnon"])
        report["build_peak_rss_file_mb"] = round(memory.peak["RssFile"])
    size = (args.out / "faiss.index").stat().st_size
    report |= {
        "index_file_mb": round(size / 1e6, 1),
        "index_mb_per_million": round(size / 1e6 / (args.entities / 1e6), 1),
    }
    command = [sys.executable, __file__, "--search-only", *sys.argv[1:]]
    report |= json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
