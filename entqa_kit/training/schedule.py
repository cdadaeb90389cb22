"""The optimiser schedule shared by both training stages."""

from __future__ import annotations


def linear_warmup_decay(optimizer, total_steps: int, warmup_fraction: float):
    """Linear warm-up over ``warmup_fraction`` of the steps, then linear decay to zero (the paper)."""
    import torch

    warmup = max(1, int(warmup_fraction * total_steps))

    def factor(step: int) -> float:
        return min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
