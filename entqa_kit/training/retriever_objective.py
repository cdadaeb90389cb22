"""The retriever objective for :func:`entqa_kit.training.loop.fit`: multi-label NCE with shared random
and hard negatives (paper section 2.1), the best epoch kept by dev R@K."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from entqa_kit.core.config import Recipe
from entqa_kit.core.records import Passage
from entqa_kit.evaluation.recall import RecallReport, retrieval_recall
from entqa_kit.index.dense import DenseIndex
from entqa_kit.models.model_dir import ENTITY_TOWER, PASSAGE_TOWER, save_encoder
from entqa_kit.retrieval.retriever import (
    Retriever,
    mine_hard_negatives,
    multi_label_nce_loss,
    sample_candidates,
)
from entqa_kit.training.loop import EpochReport


class ExactSearch:
    """Exact inner-product search over in-memory vectors (the two-tower refresh)."""

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __call__(self, queries: np.ndarray, k: int):
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


class RetrieverObjective:
    """Each gold entity of a passage is its own instance against negatives that exclude all golds."""

    def __init__(
        self,
        retriever: Retriever,
        recipe: Recipe,
        index: DenseIndex,
        passages: Sequence[Passage],
        golds: Sequence[Sequence[int]],
        dev_passages: Sequence[Passage],
        model_dir: Path,
    ) -> None:
        self.retriever, self.recipe, self.index = retriever, recipe, index
        self.config = recipe.retriever
        self.golds, self.dev_passages, self.model_dir = list(golds), list(dev_passages), model_dir
        self.ids = retriever.passage_ids(list(passages))
        self.frozen = self.config.freeze_entity_tower
        self.num_hard = round(self.config.num_negatives * self.config.hard_fraction)
        self.num_random = self.config.num_negatives - self.num_hard
        self.best_report: RecallReport | None = None
        self._report: RecallReport | None = None
        self._entity_ids: list[list[int]] = []
        self._search = index.search
        if not self.frozen:
            entity = retriever.entity_encoder
            texts = entity.entity_texts([e for _, e in index.kb.iter_entities()])
            self._entity_ids = entity.tokenizer(
                texts, truncation=True, max_length=recipe.encoder.max_entity_tokens
            )["input_ids"]
        self._stale = not self.frozen  # encoded on first use, after a resume has restored the weights

    def _encoded_search(self) -> ExactSearch:
        """Search over the KB encoded by the current entity tower (once per epoch: the vectors at the
        end of an epoch serve both its dev recall and the next epoch's hard negatives)."""
        return ExactSearch(self.retriever.entity_encoder.encode_ids(self._entity_ids, 64))

    def modules(self) -> dict[str, Any]:
        towers = {"passage_encoder": self.retriever.passage_encoder.model}
        if not self.frozen:
            towers["entity_encoder"] = self.retriever.entity_encoder.model
        return towers

    def parameter_groups(self, learning_rate: float) -> list[dict]:
        return [{"params": list(self.retriever.trainable_parameters()), "lr": learning_rate}]

    def num_examples(self) -> int:
        return len(self.ids)

    def batches(self, epoch: int, rng: np.random.Generator) -> Iterator[Sequence[Any]]:
        self._rng = rng
        if self._stale:
            self._search, self._stale = self._encoded_search(), False
        if self.frozen:
            self.retriever.entity_encoder.model.eval()
        order = rng.permutation(len(self.ids))
        for start in range(0, len(order), self.config.batch_size):
            yield order[start : start + self.config.batch_size]

    def loss(self, batch: Sequence[Any]):
        import torch

        passage_encoder, entity_encoder = self.retriever.passage_encoder, self.retriever.entity_encoder
        golds = [self.golds[i] for i in batch]
        passage_vectors = passage_encoder.forward_ids([self.ids[i] for i in batch])
        hard = mine_hard_negatives(
            self._search, passage_vectors.detach().float().cpu().numpy(), golds, self.num_hard
        )
        candidates = sample_candidates(golds, len(self.index.kb), self.num_random, hard, self._rng)
        if self.frozen:  # the fp16 memmap: each step reads only its sampled rows
            rows = np.asarray(self.index.vectors[candidates.rows], dtype=np.float32)
            entity_vectors = torch.from_numpy(rows).to(passage_vectors.device)
        else:
            entity_vectors = entity_encoder.forward_ids([self._entity_ids[r] for r in candidates.rows])
        scores = self.config.score_scale * passage_vectors.float() @ entity_vectors.float().T
        return multi_label_nce_loss(scores, torch.from_numpy(candidates.gold_mask).to(scores.device))

    def end_epoch(self, epoch: int) -> EpochReport:
        if not self.frozen:
            self._search = self._encoded_search()
        self._report = None
        if not self.dev_passages:
            return EpochReport(score=None, metrics={"dev_recall_at": {}})
        vectors = self.retriever.encode_passages(self.dev_passages)
        ks = (1, 10, self.config.recall_k, 100)
        self._report = retrieval_recall(self.dev_passages, vectors, self._search, self.index.kb, ks)
        recall = self._report.recall_at
        return EpochReport(score=recall[str(self.config.recall_k)], metrics={"dev_recall_at": recall})

    def save_best(self) -> None:
        self.best_report = self._report
        save_encoder(self.retriever.passage_encoder, self.model_dir / PASSAGE_TOWER)
        if not self.frozen:
            save_encoder(self.retriever.entity_encoder, self.model_dir / ENTITY_TOWER)
