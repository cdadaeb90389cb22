"""Documents to passages: windows of L wordpieces with stride S, exact char offsets.

Offsets come from the fast tokenizer's ``offset_mapping``; they are never rebuilt
from wordpieces. Each passage carries the document's topic wordpieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from entqa_kit.core.config import PassageConfig
from entqa_kit.core.records import Document, Passage


def topic_token_ids(text: str, ids: Sequence[int], offsets: Sequence[tuple[int, int]], config: PassageConfig):
    """The wordpieces of the document's topic: none, its first token, or its first sentence."""
    if config.topic == "none" or not ids:
        return ()
    if config.topic == "first_token":
        match = re.search(r"\S+", text)
        end = match.end() if match else 0
    else:
        match = re.search(r"[.!?\n]", text[offsets[0][0] :])
        end = offsets[0][0] + match.end() if match else len(text)
    picked = [i for i, (s, _) in zip(ids, offsets) if s < end]
    return tuple(picked[: config.max_topic_tokens])


def window_starts(num_tokens: int, length: int, stride: int) -> list[int]:
    """Start positions so that every token is in at least one window."""
    starts = []
    for start in range(0, max(num_tokens, 1), stride):
        starts.append(start)
        if start + length >= num_tokens:
            break
    return starts if num_tokens else []


def make_passages(document: Document, tokenizer, config: PassageConfig) -> list[Passage]:
    encoded = tokenizer(document.text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], [tuple(o) for o in encoded["offset_mapping"]]
    topic = topic_token_ids(document.text, ids, offsets, config)
    passages = []
    for index, start in enumerate(window_starts(len(ids), config.length, config.stride)):
        stop = min(start + config.length, len(ids))
        char_start, char_end = offsets[start][0], offsets[stop - 1][1]
        gold = [
            e
            for m in document.mentions
            if m.in_kb and char_start <= m.start and m.end <= char_end
            for e in m.entities
        ]
        passages.append(
            Passage(
                document_id=document.id,
                index=index,
                token_ids=tuple(ids[start:stop]),
                offsets=tuple(offsets[start:stop]),
                topic_ids=topic,
                gold=tuple(dict.fromkeys(gold)),
            )
        )
    return passages


def passages_of(documents: Iterable[Document], tokenizer, config: PassageConfig) -> list[Passage]:
    return [p for d in documents for p in make_passages(d, tokenizer, config)]


def passage_input_ids(passage: Passage, tokenizer) -> list[int]:
    """``[CLS] passage [SEP] topic [SEP]`` (or without the topic part)."""
    return with_special_tokens(list(passage.token_ids), list(passage.topic_ids), tokenizer)


def with_special_tokens(first: list[int], second: list[int], tokenizer) -> list[int]:
    """``[CLS] first [SEP] second [SEP]`` with the tokenizer's own special tokens (bos/eos if no cls/sep)."""
    cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    ids = [cls_id, *first, sep_id]
    return ids + [*second, sep_id] if second else ids


def mention_positions(passage: Passage, document: Document):
    """``(mention, (start, end))`` for each mention wholly inside the passage, on wordpiece edges."""
    for mention in document.mentions:
        inside = [
            i for i, (s, e) in enumerate(passage.offsets) if s >= mention.start and e <= mention.end and e > s
        ]
        if not inside:
            continue
        if passage.offsets[inside[0]][0] != mention.start or passage.offsets[inside[-1]][1] != mention.end:
            continue  # the mention is cut by the window edge
        yield mention, (inside[0] + 1, inside[-1] + 1)
