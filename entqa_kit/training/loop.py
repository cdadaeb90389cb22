"""One training loop for every stage: seeding, AdamW with warm-up/decay, bf16 autocast, progress,
per-epoch checkpoints (resumable) and a history of epoch-mean losses.

A stage supplies an :class:`Objective` (in the style of sentence-transformers losses): its
modules and parameter groups, its batches for an epoch, the loss of one batch, and what to do
at the end of an epoch (evaluate on dev, keep the best).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from entqa_kit.core.device import autocast as device_autocast
from entqa_kit.core.device import current_device
from entqa_kit.core.progress import progress_bar, stderr_console
from entqa_kit.training import distributed
from entqa_kit.training.checkpoint import load_checkpoint, save_checkpoint
from entqa_kit.training.schedule import linear_warmup_decay


@dataclass(frozen=True)
class FitConfig:
    """The optimisation settings every stage shares."""

    epochs: int
    learning_rate: float
    warmup_fraction: float
    seed: int
    bf16: bool
    checkpoint: str
    """Checkpoint folder under the model directory, e.g. ``checkpoints/reader-last``."""
    label: str = "train"


@dataclass(frozen=True)
class EpochReport:
    """What an objective measured after an epoch; ``score`` (higher is better) picks the best epoch."""

    score: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


class Objective(Protocol):
    def modules(self) -> dict[str, Any]:
        """The trainable torch modules by name (saved in checkpoints)."""

    def parameter_groups(self, learning_rate: float) -> list[dict[str, Any]]:
        """AdamW parameter groups."""

    def num_examples(self) -> int: ...

    def batches(self, epoch: int, rng: np.random.Generator) -> Iterator[Sequence[Any]]:
        """The epoch's batches, in the order to train on them."""

    def loss(self, batch: Sequence[Any]) -> Any:
        """The mean loss of one batch (a scalar tensor)."""

    def end_epoch(self, epoch: int) -> EpochReport:
        """Evaluate after an epoch (modules are in eval mode)."""

    def save_best(self) -> None:
        """Save the current weights as the model's (called when an epoch is the best so far)."""


@dataclass(frozen=True)
class FitResult:
    history: list[dict[str, Any]]
    best_epoch: int | None
    best_metrics: dict[str, Any]
    steps: int
    seconds: float


def fit(
    objective: Objective,
    config: FitConfig,
    model_dir: Path,
    steps_per_epoch: int,
    resume: bool = False,
    quiet: bool = False,
) -> FitResult:
    """Train ``objective`` for ``config.epochs``; resume from the stage's checkpoint when asked."""
    import torch

    started = time.perf_counter()
    quiet = quiet or not distributed.is_main()  # under torchrun, rank 0 alone reports
    torch.manual_seed(config.seed)
    modules = objective.modules()
    optimizer = torch.optim.AdamW(objective.parameter_groups(config.learning_rate))
    schedule = linear_warmup_decay(optimizer, steps_per_epoch * config.epochs, config.warmup_fraction)
    model_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "epochs_done": 0,
        "step": 0,
        "best_score": None,
        "best_epoch": None,
        "best_metrics": {},
        "history": [],
    }
    if resume and (restored := load_checkpoint(model_dir, modules, optimizer, config.checkpoint)):
        state = {**state, **restored}
        schedule.load_state_dict(state["scheduler"])
        if not quiet:
            stderr_console.print(f"{config.label}: resuming after epoch {state['epochs_done']}")
    distributed.broadcast_modules(modules)  # every rank starts from rank 0's weights
    trained = [p for group in optimizer.param_groups for p in group["params"]]
    autocast = device_autocast(current_device(), config.bf16)
    for epoch in range(state["epochs_done"], config.epochs):
        rng = np.random.default_rng(config.seed + epoch)
        for module in modules.values():
            module.train()
        losses: list[float] = []
        label = f"{config.label} epoch {epoch + 1}/{config.epochs}"
        with progress_bar(label, objective.num_examples(), quiet) as advance:
            for batch in objective.batches(epoch, rng):
                share, weight = distributed.my_share(batch)  # the whole batch in one process
                optimizer.zero_grad()
                value = 0.0
                if len(share):
                    with autocast:
                        loss = objective.loss(share)
                    (loss * weight if weight != 1.0 else loss).backward()
                    value = loss.item() * weight
                distributed.sum_gradients(trained)
                optimizer.step()
                schedule.step()
                state["step"] += 1
                losses.append(distributed.sum_value(value))
                advance(len(batch), f"loss {np.mean(losses[-50:]):.3f}")
        for module in modules.values():
            module.eval()
        report = objective.end_epoch(epoch)
        mean_loss = float(np.mean(losses)) if losses else float("nan")
        state["history"].append({"epoch": epoch + 1, "loss": round(mean_loss, 4), **report.metrics})
        score = report.score if report.score is not None else float(epoch)
        if state["best_score"] is None or score > state["best_score"]:
            state["best_score"], state["best_epoch"], state["best_metrics"] = score, epoch + 1, report.metrics
            if distributed.is_main():
                objective.save_best()
        state["epochs_done"] = epoch + 1
        state["scheduler"] = schedule.state_dict()
        if distributed.is_main():
            save_checkpoint(model_dir, modules, optimizer, state, config.checkpoint)
        distributed.barrier()  # no rank runs ahead of the files rank 0 writes
        if not quiet:
            extra = f"; {report.metrics}" if report.metrics else ""
            stderr_console.print(f"{config.label} epoch {epoch + 1}: mean loss {mean_loss:.4f}{extra}")
    return FitResult(
        history=state["history"],
        best_epoch=state["best_epoch"],
        best_metrics=state["best_metrics"],
        steps=state["step"],
        seconds=time.perf_counter() - started,
    )
