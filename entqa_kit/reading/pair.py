"""The EntQA reader: a cross-encoder with span (start/end) and rerank heads (paper section 2.2).

Input per (passage, candidate): ``[CLS] passage ⊕ topic [SEP] title ⊕ description [SEP]``.
Position 0 ([CLS]) is the "no mention" span; start/end distributions are over
position 0 and the passage's wordpieces only. The rerank head scores each
candidate's [CLS] vector; its softmax runs over the K candidates of a passage.

Imported lazily (it imports torch at module level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from entqa_kit.core.records import Passage
from entqa_kit.documents.passages import with_special_tokens
from entqa_kit.reading.placement import inputs_on

NULL_SPAN = (0, 0)


@dataclass(frozen=True)
class ReaderInputs:
    """Padded pair inputs ``[pairs, width]`` and the mask of selectable span positions."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    span_mask: torch.Tensor

    def to(self, device: str | torch.device) -> ReaderInputs:
        """These inputs on ``device`` (the reader's, see ``ReaderBundle.device``)."""
        return inputs_on(self, device)


def pair_ids(passage: Passage, entity_ids: Sequence[int], tokenizer) -> tuple[list[int], list[int]]:
    """Input ids and token types for one (passage, candidate) pair; passage token i sits at position i + 1."""
    first = [*passage.token_ids, *passage.topic_ids]
    ids = with_special_tokens(first, list(entity_ids), tokenizer)
    second_start = len(first) + 2
    return ids, [0] * second_start + [1] * (len(ids) - second_start)


def build_inputs(passages: Sequence[Passage], entity_ids: Sequence[Sequence[int]], tokenizer) -> ReaderInputs:
    """Batch pairs ``(passages[i], entity_ids[i])``; spans may start at [CLS] or a passage token."""
    pairs = [pair_ids(p, e, tokenizer) for p, e in zip(passages, entity_ids)]
    width = max(len(ids) for ids, _ in pairs)
    pad = tokenizer.pad_token_id or 0
    input_ids = torch.full((len(pairs), width), pad, dtype=torch.long)
    types = torch.zeros((len(pairs), width), dtype=torch.long)
    attention = torch.zeros((len(pairs), width), dtype=torch.long)
    span_mask = torch.zeros((len(pairs), width), dtype=torch.bool)
    for row, ((ids, type_ids), passage) in enumerate(zip(pairs, passages)):
        input_ids[row, : len(ids)] = torch.as_tensor(ids)
        types[row, : len(ids)] = torch.as_tensor(type_ids)
        attention[row, : len(ids)] = 1
        span_mask[row, 0] = True
        span_mask[row, 1 : 1 + len(passage.token_ids)] = True
    return ReaderInputs(input_ids, attention, types, span_mask)


class ReaderModel(torch.nn.Module):
    """Encoder plus the start/end heads and the rerank head."""

    def __init__(self, encoder) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.span = torch.nn.Linear(hidden, 2)
        self.rerank = torch.nn.Linear(hidden, 1)

    def forward(self, inputs: ReaderInputs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Start and end log-probabilities ``[pairs, width]`` and rerank logits ``[pairs]``."""
        kwargs = {"input_ids": inputs.input_ids, "attention_mask": inputs.attention_mask}
        if getattr(self.encoder.config, "type_vocab_size", 0) > 1:
            kwargs["token_type_ids"] = inputs.token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state.float()
        logits = self.span(hidden).masked_fill(~inputs.span_mask.unsqueeze(-1), float("-inf"))
        start, end = logits.log_softmax(dim=1).unbind(-1)
        return start, end, self.rerank(hidden[:, 0]).squeeze(-1)


def reader_loss(
    start_logp: torch.Tensor,
    end_logp: torch.Tensor,
    rerank_logits: torch.Tensor,
    gold_spans: Sequence[Sequence[tuple[int, int]]],
    candidates_per_passage: int,
) -> torch.Tensor:
    """The paper's objective (2), averaged over passages.

    Pairs come grouped by passage, ``candidates_per_passage`` each. ``gold_spans[i]``
    lists the (start, end) positions of pair i's entity in its passage; an empty list
    means a non-gold candidate, trained to predict the [CLS] span. The rerank term is
    ``-log p_rerank`` of every gold candidate; the span term ``-log p_start - log p_end``
    of every gold span (or of the null span).
    """
    k = candidates_per_passage
    rerank_logp = rerank_logits.view(-1, k).log_softmax(dim=1).view(-1)
    terms = []
    for pair, spans in enumerate(gold_spans):
        if spans:
            terms.append(-rerank_logp[pair])
        for start, end in spans or [NULL_SPAN]:
            terms.append(-start_logp[pair, start] - end_logp[pair, end])
    return torch.stack(terms).sum() / (len(gold_spans) // k)
