"""The joint reader: one pass reads a passage with all its K candidates (the design ReLiK uses).

Input: ``[CLS] passage topic [SEP] [NONE] [E0] cand_0 [E1] cand_1 … [SEP]``; token type 0 for
the passage part, 1 for the candidate block. Passage token i sits at position i + 1, as in the
pair reader. Heads:

- start: one logit per passage token (is a mention starting here?), trained with binary
  cross-entropy, since a passage holds several mentions;
- end given start: a dot product of the start token's query with every token's key, softmaxed
  over the ``max_span_tokens`` positions from the start;
- entity: the span's ``[start; end]`` states and each marker's state are projected, and a dot
  product gives one logit per candidate plus one for ``[NONE]``, softmaxed.

A span's score is ``p_start * p_end * p_entity``; it is linked when its best choice is a
candidate (not ``[NONE]``) and the score beats the threshold γ.

Imported lazily (it imports torch at module level).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from entqa_kit.core.records import Passage
from entqa_kit.reading.placement import inputs_on

NONE_SLOT = 0
"""Target index of the ``[NONE]`` marker; candidate i is slot i + 1."""


@dataclass(frozen=True)
class JointLayout:
    """One passage's joint input: ids, token types and where each marker sits."""

    input_ids: list[int]
    token_types: list[int]
    marker_positions: list[int]
    passage_length: int


@dataclass(frozen=True)
class JointInputs:
    """A padded batch: ``[batch, width]`` tensors and ``[batch, K + 1]`` marker positions."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    passage_mask: torch.Tensor
    marker_positions: torch.Tensor
    marker_mask: torch.Tensor

    def to(self, device: str | torch.device) -> JointInputs:
        """These inputs on ``device`` (the reader's, see ``ReaderBundle.device``)."""
        return inputs_on(self, device)


@dataclass(frozen=True)
class JointSpan:
    """A decoded span of example ``example``: positions (1-based), chosen slot and score."""

    example: int
    start: int
    end: int
    slot: int
    score: float


def marker_token_ids(tokenizer, count: int) -> list[int]:
    """Ids of ``count`` marker tokens: the vocabulary's unused slots, or added special tokens."""
    vocab = tokenizer.get_vocab()
    unused = [f"[unused{i}]" for i in range(count)]
    if all(token in vocab for token in unused):
        return [vocab[token] for token in unused]
    names = ["[NONE]", *(f"[E{i}]" for i in range(count - 1))]
    missing = [n for n in names if n not in vocab]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
    return tokenizer.convert_tokens_to_ids(names)


def joint_layout(
    passage: Passage, candidates: Sequence[Sequence[int]], markers: Sequence[int], tokenizer
) -> JointLayout:
    """Lay out ``[CLS] passage topic [SEP] [NONE] [E0] c0 … [SEP]`` for one passage."""
    cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    ids = [cls_id, *passage.token_ids, *passage.topic_ids, sep_id]
    first_part = len(ids)
    positions = [len(ids)]
    ids.append(markers[NONE_SLOT])
    for slot, tokens in enumerate(candidates, start=1):
        positions.append(len(ids))
        ids.append(markers[slot])
        ids.extend(tokens)
    ids.append(sep_id)
    types = [0] * first_part + [1] * (len(ids) - first_part)
    return JointLayout(ids, types, positions, len(passage.token_ids))


def batch_layouts(layouts: Sequence[JointLayout], pad_id: int) -> JointInputs:
    width = max(len(x.input_ids) for x in layouts)
    slots = max(len(x.marker_positions) for x in layouts)
    size = len(layouts)
    input_ids = torch.full((size, width), pad_id, dtype=torch.long)
    types = torch.zeros((size, width), dtype=torch.long)
    attention = torch.zeros((size, width), dtype=torch.long)
    passage_mask = torch.zeros((size, width), dtype=torch.bool)
    markers = torch.zeros((size, slots), dtype=torch.long)
    marker_mask = torch.zeros((size, slots), dtype=torch.bool)
    for row, layout in enumerate(layouts):
        n = len(layout.input_ids)
        input_ids[row, :n] = torch.as_tensor(layout.input_ids)
        types[row, :n] = torch.as_tensor(layout.token_types)
        attention[row, :n] = 1
        passage_mask[row, 1 : 1 + layout.passage_length] = True
        markers[row, : len(layout.marker_positions)] = torch.as_tensor(layout.marker_positions)
        marker_mask[row, : len(layout.marker_positions)] = True
    return JointInputs(input_ids, attention, types, passage_mask, markers, marker_mask)


class JointReaderModel(torch.nn.Module):
    """Encoder plus the start, end-given-start and entity-choice heads."""

    def __init__(self, encoder) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.start = torch.nn.Linear(hidden, 1)
        self.end_query = torch.nn.Linear(hidden, hidden)
        self.end_key = torch.nn.Linear(hidden, hidden)
        self.span_projection = torch.nn.Linear(2 * hidden, hidden)
        self.marker_projection = torch.nn.Linear(hidden, hidden)
        self.scale = 1.0 / math.sqrt(hidden)

    def head_modules(self) -> dict[str, torch.nn.Module]:
        return {
            "start": self.start,
            "end_query": self.end_query,
            "end_key": self.end_key,
            "span_projection": self.span_projection,
            "marker_projection": self.marker_projection,
        }

    def hidden_states(self, inputs: JointInputs) -> torch.Tensor:
        kwargs = {"input_ids": inputs.input_ids, "attention_mask": inputs.attention_mask}
        if getattr(self.encoder.config, "type_vocab_size", 0) > 1:
            kwargs["token_type_ids"] = inputs.token_type_ids
        return self.encoder(**kwargs).last_hidden_state.float()

    def start_logits(self, hidden: torch.Tensor, inputs: JointInputs) -> torch.Tensor:
        """``[batch, width]``; positions outside the passage are ``-inf``."""
        logits = self.start(hidden).squeeze(-1)
        return logits.masked_fill(~inputs.passage_mask, float("-inf"))

    def end_logits(self, hidden: torch.Tensor, rows: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """``[spans, width]``: end scores for the given (row, start) pairs.

        Keys are projected once per passage and shared by all its starts.
        """
        query = self.end_query(hidden[rows, starts])
        keys = self.end_key(hidden)
        return torch.einsum("sh,swh->sw", query, keys[rows]) * self.scale

    def entity_logits(
        self,
        hidden: torch.Tensor,
        inputs: JointInputs,
        rows: torch.Tensor,
        starts: torch.Tensor,
        ends: torch.Tensor,
    ) -> torch.Tensor:
        """``[spans, K + 1]``: slot 0 is ``[NONE]``, slot i + 1 candidate i; padding is ``-inf``."""
        span = self.span_projection(torch.cat([hidden[rows, starts], hidden[rows, ends]], dim=-1))
        batch = torch.arange(hidden.shape[0], device=hidden.device).unsqueeze(-1)
        markers = self.marker_projection(hidden[batch, inputs.marker_positions])  # once per passage
        logits = torch.einsum("sh,skh->sk", span, markers[rows]) * self.scale
        return logits.masked_fill(~inputs.marker_mask[rows], float("-inf"))


@dataclass(frozen=True)
class GoldSpan:
    """A training target: example row, positions (1-based) and the slot of its entity (0: none)."""

    example: int
    start: int
    end: int
    slot: int


def joint_loss(
    model: JointReaderModel, inputs: JointInputs, golds: Sequence[GoldSpan], max_span_tokens: int
) -> torch.Tensor:
    """Start BCE over passage tokens, plus end and entity cross-entropy per gold span; mean per passage."""
    hidden = model.hidden_states(inputs)
    start_logits = model.start_logits(hidden, inputs)
    labels = torch.zeros_like(start_logits)
    for gold in golds:
        labels[gold.example, gold.start] = 1.0
    mask = inputs.passage_mask
    start_terms = torch.nn.functional.binary_cross_entropy_with_logits(
        start_logits[mask], labels[mask], reduction="sum"
    )
    batch = inputs.input_ids.shape[0]
    if not golds:
        return start_terms / batch
    device = hidden.device
    rows = torch.tensor([g.example for g in golds], device=device)
    starts = torch.tensor([g.start for g in golds], device=device)
    ends = torch.tensor([g.end for g in golds], device=device)
    end_logits = end_window(model.end_logits(hidden, rows, starts), starts, mask[rows], max_span_tokens)
    end_terms = torch.nn.functional.cross_entropy(end_logits, ends, reduction="sum")
    entity_logits = model.entity_logits(hidden, inputs, rows, starts, ends)
    slots = torch.tensor([g.slot for g in golds], device=device)
    entity_terms = torch.nn.functional.cross_entropy(entity_logits, slots, reduction="sum")
    return (start_terms + end_terms + entity_terms) / batch


def end_window(
    logits: torch.Tensor, starts: torch.Tensor, passage_mask: torch.Tensor, max_span_tokens: int
) -> torch.Tensor:
    """Keep end positions ``start <= end < start + max_span_tokens`` inside the passage; others -inf."""
    positions = torch.arange(logits.shape[1], device=logits.device).unsqueeze(0)
    offset = positions - starts.unsqueeze(1)
    allowed = (offset >= 0) & (offset < max_span_tokens) & passage_mask
    return logits.masked_fill(~allowed, float("-inf"))


def decode_joint(
    model: JointReaderModel,
    inputs: JointInputs,
    min_start_probability: float,
    max_span_tokens: int,
    threshold: float,
) -> list[JointSpan]:
    """Spans whose best slot is a candidate and whose ``p_start * p_end * p_entity > threshold``.

    Every start with ``p_start >= min_start_probability`` takes its best end and its best slot;
    nothing else depends on ``threshold``, so filtering a low-threshold run at γ equals linking at γ.
    """
    hidden = model.hidden_states(inputs)
    start_probability = model.start_logits(hidden, inputs).sigmoid()
    rows, starts = torch.nonzero(start_probability >= min_start_probability, as_tuple=True)
    if rows.numel() == 0:
        return []
    end_logits = end_window(
        model.end_logits(hidden, rows, starts), starts, inputs.passage_mask[rows], max_span_tokens
    )
    end_probability, ends = end_logits.softmax(dim=-1).max(dim=-1)
    entity_probability, slots = model.entity_logits(hidden, inputs, rows, starts, ends).softmax(-1).max(-1)
    scores = start_probability[rows, starts] * end_probability * entity_probability
    keep = (slots != NONE_SLOT) & (scores > threshold)
    columns = [column[keep].cpu().tolist() for column in (rows, starts, ends, slots, scores)]
    return [JointSpan(r, s, e, k, float(p)) for r, s, e, k, p in zip(*columns)]
