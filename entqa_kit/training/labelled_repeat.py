"""A few labelled documents among many silver ones: each labelled passage is read several times per
epoch (``[reader_train] labelled_repeat``), silver passages once."""

from __future__ import annotations

from entqa_kit.core.records import Document, Passage
from entqa_kit.documents.unlabelled import is_silver
from entqa_kit.training.silver_masking import is_masked


def is_labelled(document: Document) -> bool:
    """A document with mentions, none of them silver (masked or not)."""
    return bool(document.mentions) and not any(is_silver(m) or is_masked(m) for m in document.mentions)


def repeat_labelled(passages: list[Passage], documents: dict[str, Document], times: int) -> list[Passage]:
    """``passages`` with each passage of a labelled document ``times`` times, in order; others once."""
    if times <= 1:
        return passages
    labelled = {i for i, d in documents.items() if is_labelled(d)}
    return [copy for p in passages for copy in [p] * (times if p.document_id in labelled else 1)]
