"""Cut-down KBs for joint reader training (``[reader_train] narrow_kb``).

A user's KB is often one kind of thing (clubs, countries, diseases), and a reader trained only against a
full KB links a mention to the nearest candidate it is shown: against a KB of football clubs,
"Jerusalem" becomes Hapoel Jerusalem F.C. Here a training passage can be read against a simulated
narrow KB of one of two kinds, half of the time each:

- a KB that lacks what the passage names: the retriever's best candidates with every gold of the
  passage taken out (the nearest wrong entities, as a narrow KB without the right one shows them);
- a KB of another kind: the ``size`` entities nearest to a random entity (by the index's entity
  vectors, so one neighbourhood is mostly one kind of thing), of which the passage's retriever picks
  its best ``k`` (a gold among them stays a gold).

Mentions whose gold is not among the candidates are taught ``[NONE]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from entqa_kit.core.progress import progress_bar

WITHOUT_GOLDS_SHARE = 0.5
"""Share of cut-down KBs that are the full KB without the passage's golds (the rest: a random kind)."""


def narrow_pivots(
    passage_golds: Sequence[Sequence[int]], entities: int, rng: np.random.Generator
) -> np.ndarray:
    """One pivot row per passage: -1 (the KB without its golds; only for a passage with golds, half
    of the time) or a random KB row whose neighbourhood is its cut-down KB."""
    pivots = np.empty(len(passage_golds), dtype=np.int64)
    for i, golds in enumerate(passage_golds):
        without_golds = bool(golds) and rng.random() < WITHOUT_GOLDS_SHARE
        pivots[i] = -1 if without_golds else int(rng.integers(entities))
    return pivots


def narrow_candidates(
    index,
    passage_vectors: np.ndarray,
    passage_golds: Sequence[Sequence[int]],
    retrieved: np.ndarray,
    k: int,
    size: int,
    seed: int,
    quiet: bool = True,
) -> list[tuple[int, ...]]:
    """Per passage: the candidates its retriever finds in a cut-down KB (at most ``k`` rows)."""
    rng = np.random.default_rng(seed)
    pivots = narrow_pivots(passage_golds, len(index.kb), rng)
    unique, which = np.unique(pivots, return_inverse=True)  # which: each passage's row of unique
    neighbourhoods = np.empty((len(unique), size), dtype=np.int64)
    random_kind = unique >= 0
    if random_kind.any():
        vectors = np.asarray(index.entity_vectors(unique[random_kind]), dtype=np.float32)
        neighbourhoods[random_kind] = index.search(vectors, size)[1]
    candidates: list[tuple[int, ...]] = []
    with progress_bar("Cut-down KBs", len(pivots), quiet) as advance:
        for pivot, near, vector, golds, found in zip(
            pivots, which, passage_vectors, passage_golds, retrieved
        ):
            if pivot < 0:
                taken_out = set(golds)
                best = [int(r) for r in found if r >= 0 and int(r) not in taken_out][:k]
            else:
                rows = neighbourhoods[near]
                rows = rows[rows >= 0]
                scores = np.asarray(index.entity_vectors(rows), dtype=np.float32) @ vector.astype(np.float32)
                best = [int(r) for r in rows[np.argsort(-scores, kind="stable")[:k]]]
            candidates.append(tuple(best))
            advance(1)
    return candidates
