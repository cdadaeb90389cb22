"""Retriever pretraining from the KB itself (the SapBERT idea): each title and alias is a query for its
entity, trained with the same multi-label NCE and hard negatives as passages (``[retriever]
kb_alias_queries = N``). A name shared by several entities has all of them as golds."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from entqa_kit.core.records import Passage
from entqa_kit.kb.store import KnowledgeBase

ALIAS_DOCUMENT_PREFIX = "kb-alias:"
"""The ``document_id`` of an alias query passage: this prefix and the entity id."""


def query_text(name: str, description: str, context_words: int) -> str:
    """``name`` alone, or ``name: first words of the description`` when both are there."""
    words = description.split()[:context_words]
    return f"{name}: {' '.join(words)}" if words else name


def alias_queries(
    kb: KnowledgeBase, tokenizer, count: int, context_words: int, max_tokens: int, seed: int
) -> tuple[list[Passage], list[list[int]]]:
    """Up to ``count`` query passages (distinct names, drawn by ``seed``) and the KB rows each names."""
    if count <= 0:
        return [], []
    rows_of: dict[str, list[int]] = defaultdict(list)
    first: dict[str, tuple[str, int, str, str]] = {}
    for row, entity in kb.iter_entities():
        for name in dict.fromkeys(" ".join(n.split()) for n in (entity.title, *entity.aliases)):
            key = name.lower()
            if not key or (rows_of[key] and rows_of[key][-1] == row):
                continue
            rows_of[key].append(row)
            first.setdefault(key, (name, row, entity.id, entity.description))
    keys = list(first)
    if len(keys) > count:
        keys = [keys[i] for i in sorted(np.random.default_rng(seed).choice(len(keys), count, replace=False))]
    texts = [query_text(first[k][0], first[k][3], context_words) for k in keys]
    encoded = tokenizer(
        texts, add_special_tokens=False, truncation=True, max_length=max_tokens, return_offsets_mapping=True
    )
    passages = [
        Passage(
            document_id=ALIAS_DOCUMENT_PREFIX + first[key][2],
            index=0,
            token_ids=tuple(ids),
            offsets=tuple(tuple(o) for o in offsets),
            gold=(first[key][2],),
        )
        for key, ids, offsets in zip(keys, encoded["input_ids"], encoded["offset_mapping"])
    ]
    return passages, [list(rows_of[key]) for key in keys]
