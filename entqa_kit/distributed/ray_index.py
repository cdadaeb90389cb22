"""``entqa-kit index KB --out IDX --ray``: the entity encoding split across Ray tasks, one per shard.

The build itself (KB store, resume state, faiss, manifest) is :func:`entqa_kit.index.build.build_index`;
only the encoding of each shard of ``IndexConfig.shard_size`` entities runs as a Ray task. The driver
sends the entity texts, a task returns the shard's fp16 vectors, and the driver writes them into the
memmap in shard order, advancing ``progress.json`` after each: a killed build resumes after its last
finished shard. Vectors equal a single-process build's (the same encoder on the same shard).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from entqa_kit.core.errors import EntQAError
from entqa_kit.distributed.ray_cluster import import_ray, ray_cluster
from entqa_kit.index.build import IndexBuildResult, ShardMap, build_index

_ENCODERS: dict[str, Any] = {}
"""One loaded encoder per worker process and config (Ray reuses workers across tasks)."""


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide: the cluster address (None: a local cluster), workers, CPUs per worker."""

    address: str | None = None
    workers: int = 2
    cpus_per_worker: float = 1.0
    attempts: int = 3
    """Tries per shard or document batch before a worker failure is reported (Ray retries them)."""

    @property
    def threads(self) -> int:
        return max(1, int(self.cpus_per_worker))


def encode_shard(config_json: str, texts: list[str], max_tokens: int, batch_size: int, threads: int):
    """In a Ray worker: the fp16 vectors of one shard's entity texts."""
    import torch

    from entqa_kit.core.config import EncoderConfig
    from entqa_kit.models.encoder import TextEncoder

    torch.set_num_threads(threads)
    encoder = _ENCODERS.get(config_json)
    if encoder is None:
        encoder = _ENCODERS[config_json] = TextEncoder.load(EncoderConfig.model_validate_json(config_json))
    return encoder.encode(texts, max_tokens, batch_size).astype(np.float16)


def unwrap(exc: BaseException) -> EntQAError:
    """The coded error a Ray task or actor raised (found along the exception's causes), or E144."""
    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        if isinstance(current, EntQAError):
            return current
        seen.add(id(current))
        current = getattr(current, "cause", None) or current.__cause__
    text = [line for line in str(exc).strip().splitlines() if line.strip()]
    return EntQAError("E144", detail=text[-1].strip() if text else type(exc).__name__)


def ray_shard_map(options: RayOptions) -> ShardMap:
    """A :data:`ShardMap` running each shard as a Ray task, at most two per worker in flight."""

    def encode_map(
        encoder, jobs: Iterator[tuple[int, list]], batch_size: int, advance: Callable[[int], None]
    ) -> Iterator[tuple[int, np.ndarray]]:
        ray = import_ray()
        remote = ray.remote(num_cpus=options.cpus_per_worker, max_retries=options.attempts)(encode_shard)
        config_json = encoder.config.model_dump_json()
        max_tokens = encoder.config.max_entity_tokens
        window: deque = deque()

        def finish():
            shard, size, ref = window.popleft()
            try:
                vectors = ray.get(ref)
            except Exception as exc:  # a task that failed on every attempt
                raise unwrap(exc) from None
            advance(size)
            return shard, vectors

        for shard, entities in jobs:
            texts = encoder.entity_texts(entities)
            ref = remote.remote(config_json, texts, max_tokens, batch_size, options.threads)
            window.append((shard, len(entities), ref))
            if len(window) >= 2 * options.workers:
                yield finish()
        while window:
            yield finish()

    return encode_map


def build_index_ray(
    kb_file: Path, out_dir: Path, options: RayOptions, **build_options: Any
) -> IndexBuildResult:
    """:func:`build_index` (same arguments) with the shards encoded on a Ray cluster."""
    cpus = max(1, round(options.workers * options.cpus_per_worker))
    with ray_cluster(options.address, num_cpus=cpus):
        return build_index(kb_file, out_dir, encode_map=ray_shard_map(options), **build_options)
