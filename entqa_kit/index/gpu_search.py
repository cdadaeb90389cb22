"""Exact search of a flat index with torch on a GPU: the fp16 vectors are copied to the device once
and scored with one matmul per chunk of rows (``--device cuda``; works on any torch device)."""

from __future__ import annotations

from typing import Any

import numpy as np

_ROWS_PER_CHUNK = 1 << 20


def device_vectors(index: Any, device: str) -> Any:
    """The index's fp16 vectors as a tensor on ``device``, cached on the index object."""
    import torch

    cached = getattr(index, "_device_vectors", None)
    if cached is None or str(cached.device) != str(torch.device(device)):
        cached = torch.from_numpy(np.asarray(index.vectors, dtype=np.float16)).to(device)
        index._device_vectors = cached
    return cached


def torch_exact_search(
    vectors: Any, queries: np.ndarray, k: int, chunk: int = _ROWS_PER_CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products of ``queries`` against ``vectors`` (a tensor), best first, as numpy.

    Scores are accumulated in fp32 (fp16 inputs, fp32 queries cast to the vectors' dtype on CUDA)."""
    import torch

    on_cpu = vectors.device.type == "cpu"
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(vectors.device)
    best_scores = best_rows = None
    with torch.inference_mode():
        for start in range(0, vectors.shape[0], chunk):
            block = vectors[start : start + chunk]
            scores = q @ block.float().T if on_cpu else (q.to(block.dtype) @ block.T).float()
            take = min(k, scores.shape[1])
            top_scores, top_rows = scores.topk(take, dim=1)
            top_rows = top_rows + start
            if best_scores is not None:
                top_scores = torch.cat([best_scores, top_scores], dim=1)
                top_rows = torch.cat([best_rows, top_rows], dim=1)
                keep = top_scores.topk(min(k, top_scores.shape[1]), dim=1)
                top_scores, top_rows = keep.values, top_rows.gather(1, keep.indices)
            best_scores, best_rows = top_scores, top_rows
    return best_scores.cpu().numpy().astype(np.float32), best_rows.cpu().numpy().astype(np.int64)
