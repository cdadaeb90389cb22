"""faiss search on a GPU (``--device cuda``): an ivfpq index is copied to the GPU once and the copy is
cached on its DenseIndex. hnsw has no faiss GPU version and faiss-cpu sees no GPU: both search on
the CPU after one warning line. (Flat indexes are searched with torch, see ``gpu_search``.)"""

from __future__ import annotations

from typing import Any

from entqa_kit.core.display import literal
from entqa_kit.core.progress import stderr_console

GPU_MAX_K = 2048
"""The most neighbours faiss's GPU search returns per query; larger searches use the CPU index."""


def placement(index_type: str, device: str, faiss_gpus: int) -> tuple[str, str | None]:
    """Where to search a faiss index of ``index_type`` for ``device``: ``gpu`` or ``cpu``, and the
    warning to show when a GPU was asked for but the search stays on the CPU."""
    if device == "cpu" or index_type == "flat":
        return "cpu", None
    if index_type == "hnsw":
        return "cpu", "faiss has no GPU version of hnsw, so this hnsw index is searched on the CPU"
    if faiss_gpus <= 0:
        todo = "install faiss-gpu in place of faiss-cpu (README, 'Scaling out')"
        return "cpu", f"faiss sees no GPU (faiss-cpu?), so this ivfpq index is searched on the CPU; {todo}"
    return "gpu", None


def faiss_searcher(index: Any, device: str, k: int) -> Any:
    """The faiss index to search ``index`` (a DenseIndex) with on ``device`` for ``k`` neighbours: its
    GPU copy (made on first use) where :func:`placement` says so, else its CPU index."""
    cached = getattr(index, "_faiss_on_device", None)
    if cached is None or cached[0] != device:
        cached = (device, *_place(index, device))
        index._faiss_on_device = cached
    _, searcher, _resources = cached
    return index.faiss_index if k > GPU_MAX_K else searcher


def _place(index: Any, device: str) -> tuple[Any, Any]:
    """``(searcher, GPU resources or None)``; warns once when the search stays on the CPU."""
    import faiss

    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    where, warning = placement(index.manifest.index_type, device, gpus)
    if where == "gpu":
        try:
            resources = faiss.StandardGpuResources()
            return faiss.index_cpu_to_gpu(resources, _gpu_number(device), index.faiss_index), resources
        except RuntimeError as exc:  # a code layout faiss's GPU search does not take
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            warning = f"faiss could not copy this ivfpq index to the GPU ({detail}); searching on the CPU"
    if warning:
        stderr_console.print(f"[yellow]warning:[/yellow] {literal(warning)}", soft_wrap=True)
    return index.faiss_index, None


def _gpu_number(device: str) -> int:
    """The GPU of ``cuda:N``; for ``cuda``, torch's current one (its own under torchrun)."""
    if ":" in device:
        return int(device.split(":", 1)[1])
    import torch

    return torch.cuda.current_device()
