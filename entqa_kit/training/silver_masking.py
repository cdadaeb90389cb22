"""Keep the reader from just learning the name matcher: a share of silver mentions is masked.

A masked silver mention is left out of the reader's loss on both sides: it is not a target span, its
start is not taught as "no mention" (joint reader: left out of the start loss) and its entity is not a
negative candidate of its passage (pair reader). So the reader learns what mentions look like from the
silver spans it is shown, and is not punished for finding the spans the matcher found but hid
(``[reader_train] silver_mask``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from entqa_kit.core.records import Document, Mention, Passage
from entqa_kit.documents.unlabelled import is_silver

SILVER_MASKED = "silver-masked"
"""The ``label`` of a masked silver mention."""


def is_masked(mention: Mention) -> bool:
    return mention.label == SILVER_MASKED


def mask_silver(documents: Sequence[Document], share: float, seed: int) -> list[Document]:
    """``documents`` with each silver mention masked with probability ``share`` (drawn by ``seed``)."""
    if share <= 0:
        return list(documents)
    rng = np.random.default_rng(seed)
    out = []
    for document in documents:
        mentions = tuple(
            m.model_copy(update={"label": SILVER_MASKED}) if is_silver(m) and rng.random() < share else m
            for m in document.mentions
        )
        out.append(
            document.model_copy(update={"mentions": mentions}) if mentions != document.mentions else document
        )
    return out


def masked_rows(passage: Passage, document: Document, kb) -> set[int]:
    """KB rows of the masked mentions that overlap ``passage``: neither gold nor negative there."""
    rows = set()
    for mention in document.mentions:
        if is_masked(mention) and mention.start < passage.char_end and mention.end > passage.char_start:
            rows |= {row for e in mention.entities if (row := kb.row_of(e)) is not None}
    return rows


def without_positions(inputs, masked: Sequence[Sequence[int]]):
    """Joint reader inputs whose passage mask is off at each example's ``masked`` start positions, so the
    start loss neither rewards nor punishes a start there."""
    if not any(masked):
        return inputs
    passage_mask = inputs.passage_mask.clone()
    for row, positions in enumerate(masked):
        for position in positions:
            passage_mask[row, position] = False
    return dataclasses.replace(inputs, passage_mask=passage_mask)
