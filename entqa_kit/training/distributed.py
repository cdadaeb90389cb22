"""torch.distributed for training: the process group from torchrun's environment, each rank's
share of a batch, averaged gradients, and rank 0 alone writing files.

Every rank draws the same batches (same seed, same permutation) and trains on its contiguous slice
of each; gradients are summed across ranks with each rank's loss weighted by its share of the batch,
so one step equals a single-process step on the whole batch (for losses that are means over
examples). The objectives stay unchanged: they may call submodules directly, which
DistributedDataParallel's wrapper would not see.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from entqa_kit.core.errors import EntQAError


def _dist():
    import torch.distributed as dist

    return dist


def active() -> bool:
    """True inside an initialised process group of more than one process."""
    dist = _dist()
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return _dist().get_rank() if active() else 0


def world_size() -> int:
    return _dist().get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0 (or a single process): the one that writes checkpoints, history and model files."""
    return rank() == 0


def barrier() -> None:
    if active():
        _dist().barrier()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_from_env(device: str = "cpu") -> bool:
    """Join the process group torchrun describes (gloo on CPU, nccl on CUDA); False when the
    process was not launched by torchrun with more than one process."""
    if not launched_by_torchrun():
        return False
    dist = _dist()
    if dist.is_initialized():
        return True
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        import torch

        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    try:
        dist.init_process_group(backend=backend, init_method="env://")
    except (RuntimeError, ValueError) as exc:
        raise EntQAError(
            "E146", detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        ) from None
    return True


def shutdown() -> None:
    dist = _dist()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def my_share(batch: Sequence[Any]) -> tuple[Sequence[Any], float]:
    """This rank's contiguous slice of ``batch`` and its weight (slice size / batch size)."""
    size, ranks, me = len(batch), world_size(), rank()
    if ranks == 1 or size == 0:
        return batch, 1.0
    start, stop = size * me // ranks, size * (me + 1) // ranks
    return batch[start:stop], (stop - start) / size


def sum_gradients(parameters: Iterable[Any]) -> None:
    """Sum the gradients of ``parameters`` across ranks in one flat all-reduce (a missing gradient
    counts as zeros, so every rank sends the same layout)."""
    if not active():
        return
    import torch

    params = [p for p in parameters if p.requires_grad]
    if not params:
        return
    flat = torch.cat(
        [
            (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float().to(_wire())
            for p in params
        ]
    )
    _dist().all_reduce(flat)
    offset = 0
    for p in params:
        n = p.numel()
        chunk = flat[offset : offset + n].view_as(p).to(p.device, p.dtype)
        if p.grad is None:
            p.grad = chunk.clone()
        else:
            p.grad.copy_(chunk)
        offset += n


def sum_value(value: float) -> float:
    """``value`` summed across ranks (the batch loss from the ranks' weighted shares)."""
    if not active():
        return value
    import torch

    tensor = torch.tensor([value], dtype=torch.float64, device=_wire())
    _dist().all_reduce(tensor)
    return float(tensor.item())


def broadcast_modules(modules: dict[str, Any]) -> None:
    """Copy rank 0's parameters and buffers to every rank (heads initialised at random differ)."""
    if not active():
        return
    dist = _dist()
    for module in modules.values():
        for tensor in list(module.parameters()) + list(module.buffers()):
            wire = tensor.data.to(_wire())  # nccl sends CUDA tensors only (a CPU reader stays on the CPU)
            dist.broadcast(wire, src=0)
            if wire is not tensor.data:
                tensor.data.copy_(wire)


def _wire() -> str:
    """Where collective tensors live: CUDA for nccl, the CPU for gloo."""
    return "cuda" if _dist().get_backend() == "nccl" else "cpu"
