"""A training run for tests/test_scale_out.py: a tiny random BERT fitted on a toy regression with
the shared loop, in one process or as a rank under torchrun. Writes into OUT/rank<R>."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


class ToyObjective:
    """Mean-pooled hidden states regressed onto a fixed vector: a mean over examples, dropout off."""

    def __init__(self, model_path: str, out: Path, batch_size: int) -> None:
        import torch
        from transformers import BertModel

        self.model = BertModel.from_pretrained(
            model_path, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
        )
        rng = np.random.default_rng(0)
        self.examples = [rng.integers(1000, 2000, size=int(rng.integers(3, 9))).tolist() for _ in range(11)]
        self.target = torch.linspace(-1, 1, self.model.config.hidden_size)
        self.out, self.batch_size = out, batch_size

    def modules(self):
        return {"model": self.model}

    def parameter_groups(self, learning_rate):
        return [{"params": list(self.model.parameters()), "lr": learning_rate}]

    def num_examples(self):
        return len(self.examples)

    def batches(self, epoch, rng):
        order = rng.permutation(len(self.examples))
        for start in range(0, len(order), self.batch_size):
            yield [self.examples[i] for i in order[start : start + self.batch_size]]

    def loss(self, batch):
        import torch

        width = max(len(x) for x in batch)
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, x in enumerate(batch):
            ids[row, : len(x)], mask[row, : len(x)] = torch.as_tensor(x), 1
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return ((pooled - self.target) ** 2).mean()

    def end_epoch(self, epoch):
        from entqa_kit.training.loop import EpochReport

        return EpochReport()

    def save_best(self):
        (self.out / "best.txt").write_text("saved by save_best\n")


def main(model_path: str, out_root: str) -> None:
    import torch
    from safetensors.torch import save_model

    from entqa_kit.training import distributed
    from entqa_kit.training.loop import FitConfig, fit

    torch.set_num_threads(1)
    distributed.init_from_env()
    out = Path(out_root) / f"rank{distributed.rank()}"
    out.mkdir(parents=True, exist_ok=True)
    objective = ToyObjective(model_path, out, batch_size=5)
    config = FitConfig(
        epochs=2, learning_rate=1e-3, warmup_fraction=0.0, seed=7, bf16=False, checkpoint="checkpoints/toy"
    )
    result = fit(objective, config, out, steps_per_epoch=3, quiet=True)
    if distributed.is_main():
        save_model(objective.model, str(Path(out_root) / "params.safetensors"))
        (Path(out_root) / "history.txt").write_text(f"{result.history}\n")
    distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
