"""The EntQA retriever: a passage tower and an entity tower, and the multi-label NCE.

``score(p, e) = scale * <P(p), E(e)>``. Training treats every gold entity of a
passage as its own softmax over itself plus negatives; the negatives exclude all
of that passage's gold entities. Negatives are shared across a batch: a set of
uniformly random entities plus each passage's highest-scoring wrong entities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from entqa_kit.core.config import RetrieverConfig
from entqa_kit.core.records import Passage
from entqa_kit.documents.passages import passage_input_ids
from entqa_kit.models.encoder import TextEncoder

if TYPE_CHECKING:
    import torch

SearchFn = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
"""``search(query_vectors, k) -> (scores, rows)``, as :meth:`DenseIndex.search`."""


def multi_label_nce_loss(scores: torch.Tensor, gold_mask: torch.Tensor) -> torch.Tensor:
    """Mean over gold pairs (b, g) of ``-log exp(s_bg) / (exp(s_bg) + sum_{n not gold for b} exp(s_bn))``.

    ``scores`` is ``[passages, candidates]``; ``gold_mask[b, c]`` marks the gold
    candidates of passage b, which are never negatives for b.
    """
    import torch

    negatives = scores.masked_fill(gold_mask, float("-inf"))
    negative_lse = torch.logsumexp(negatives, dim=1)
    rows, cols = gold_mask.nonzero(as_tuple=True)
    gold_scores = scores[rows, cols]
    return (torch.logaddexp(gold_scores, negative_lse[rows]) - gold_scores).mean()


@dataclass(frozen=True)
class CandidateBatch:
    """The shared candidate rows of one batch and which are gold for which passage."""

    rows: np.ndarray
    gold_mask: np.ndarray


def sample_candidates(
    gold_rows: Sequence[Sequence[int]],
    num_entities: int,
    num_random: int,
    hard_rows: Sequence[Sequence[int]],
    rng: np.random.Generator,
) -> CandidateBatch:
    """Golds, shared uniform-random negatives and per-passage hard negatives, deduplicated."""
    random_rows = rng.choice(num_entities, size=min(num_random, num_entities), replace=False)
    pool = (
        [r for rows in gold_rows for r in rows] + [r for rows in hard_rows for r in rows] + list(random_rows)
    )
    rows = np.array(list(dict.fromkeys(int(r) for r in pool)), dtype=np.int64)
    position = {r: i for i, r in enumerate(rows)}
    mask = np.zeros((len(gold_rows), len(rows)), dtype=bool)
    for b, golds in enumerate(gold_rows):
        mask[b, [position[g] for g in golds]] = True
    return CandidateBatch(rows=rows, gold_mask=mask)


def mine_hard_negatives(
    search: SearchFn, passage_vectors: np.ndarray, gold_rows: Sequence[Sequence[int]], per_passage: int
) -> list[list[int]]:
    """Each passage's ``per_passage`` highest-scoring entities that are not its golds."""
    if per_passage == 0:
        return [[] for _ in gold_rows]
    widest = max((len(g) for g in gold_rows), default=0)
    _, found = search(passage_vectors, per_passage + widest)
    hard = []
    for golds, candidates in zip(gold_rows, found):
        excluded = set(golds)
        hard.append([int(r) for r in candidates if r >= 0 and int(r) not in excluded][:per_passage])
    return hard


class Retriever:
    """Two towers. With ``freeze_entity_tower`` only the passage tower learns."""

    def __init__(
        self, passage_encoder: TextEncoder, entity_encoder: TextEncoder, config: RetrieverConfig
    ) -> None:
        self.passage_encoder = passage_encoder
        self.entity_encoder = entity_encoder
        self.config = config

    def passage_ids(self, passages: Sequence[Passage]) -> list[list[int]]:
        tokenizer = self.passage_encoder.tokenizer
        return [passage_input_ids(p, tokenizer) for p in passages]

    def encode_passages(
        self, passages: Sequence[Passage], batch_size: int = 64, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        return self.passage_encoder.encode_ids(self.passage_ids(passages), batch_size, on_batch)

    def trainable_parameters(self) -> list:
        params = list(self.passage_encoder.model.parameters())
        if not self.config.freeze_entity_tower:
            params += list(self.entity_encoder.model.parameters())
        return params
