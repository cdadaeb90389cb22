"""The reader objectives for :func:`entqa_kit.training.loop.fit`: pair (EntQA) and joint (ReLiK-style).

The reader sits on the process's device (``ReaderBundle.create``); each batch is built on the CPU and
moved there."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from entqa_kit.core.config import LinkConfig, ReaderConfig, ReaderTrainConfig
from entqa_kit.core.records import Document, Passage
from entqa_kit.documents.passages import mention_positions
from entqa_kit.reading.candidates import CandidateTokenCache
from entqa_kit.reading.reader_io import EntityTokenCache, ReaderBundle, save_reader
from entqa_kit.training.loop import EpochReport
from entqa_kit.training.silver_masking import without_positions


def _groups(bundle: ReaderBundle, learning_rate: float, head_learning_rate: float | None) -> list[dict]:
    heads = [p for m in bundle.head_modules().values() for p in m.parameters()]
    return [
        {"params": list(bundle.model.encoder.parameters()), "lr": learning_rate},
        {"params": heads, "lr": head_learning_rate or learning_rate},
    ]


class _ReaderObjective:
    bundle: ReaderBundle
    train: ReaderTrainConfig

    def modules(self) -> dict[str, Any]:
        return {"reader": self.bundle.model}

    def parameter_groups(self, learning_rate: float) -> list[dict]:
        return _groups(self.bundle, learning_rate, self.train.head_learning_rate)

    def end_epoch(self, epoch: int) -> EpochReport:
        return EpochReport()

    model_dir: Path | None = None

    def save_best(self) -> None:
        """No dev score chooses an epoch: each finished epoch's reader is saved (usable at once)."""
        if self.model_dir is not None:
            save_reader(self.bundle, self.model_dir)


class PairObjective(_ReaderObjective):
    """EntQA's objective (2): rerank log-likelihood of gold candidates plus every gold span's."""

    def __init__(
        self,
        bundle: ReaderBundle,
        config: ReaderConfig,
        train: ReaderTrainConfig,
        examples: list[tuple[Passage, list[int], list[list[tuple[int, int]]]]],
        kb,
    ) -> None:
        self.bundle, self.train, self.examples = bundle, train, examples
        self.entity_tokens = EntityTokenCache(kb, bundle.tokenizer, config.max_entity_tokens)

    def num_examples(self) -> int:
        return len(self.examples)

    def batches(self, epoch: int, rng: np.random.Generator) -> Iterator[Sequence[Any]]:
        order = rng.permutation(len(self.examples))
        for start in range(0, len(order), self.train.batch_size):
            yield [self.examples[i] for i in order[start : start + self.train.batch_size]]

    def loss(self, batch: Sequence[Any]):
        from entqa_kit.reading.pair import build_inputs, reader_loss

        pair_passages = [p for p, rows, _ in batch for _ in rows]
        pair_entities = [self.entity_tokens[r] for _, rows, _ in batch for r in rows]
        spans = [s for _, _, per_row in batch for s in per_row]
        inputs = build_inputs(pair_passages, pair_entities, self.bundle.tokenizer).to(self.bundle.device)
        start_logp, end_logp, rerank = self.bundle.model(inputs)
        return reader_loss(start_logp, end_logp, rerank, spans, self.train.train_k)


@dataclass(frozen=True)
class JointExample:
    """A training passage: its mentions' positions with their KB rows (None: out of the KB) and the
    retriever's candidates (best first)."""

    passage: Passage
    mentions: tuple[tuple[int, int, int | None], ...]
    retrieved: tuple[int, ...]
    masked: tuple[int, ...] = ()
    """Start positions of masked silver mentions, left out of the start loss (``silver_mask``)."""
    narrow: tuple[int, ...] = ()
    """The retriever's best rows of a cut-down KB (``narrow_kb``); empty: never read that way."""


class JointObjective(_ReaderObjective):
    """Start BCE, end CE and entity-choice CE over K candidates in random order, golds sometimes dropped."""

    def __init__(
        self,
        bundle: ReaderBundle,
        config: ReaderConfig,
        train: ReaderTrainConfig,
        link: LinkConfig,
        passages: Sequence[Passage],
        documents: dict[str, Document],
        retrieved: np.ndarray,
        kb,
        narrow: Sequence[tuple[int, ...]] | None = None,
    ) -> None:
        from entqa_kit.reading.joint import marker_token_ids
        from entqa_kit.training.silver_masking import is_masked

        self.bundle, self.train, self.link = bundle, train, link
        self.k = min(train.train_k, config.max_candidates)
        self.markers = marker_token_ids(bundle.tokenizer, config.max_candidates + 1)
        self.tokens = CandidateTokenCache(
            kb, bundle.tokenizer, config.candidate_title_tokens, config.candidate_description_tokens
        )
        self.examples: list[JointExample] = []
        names = link.candidates == "dense+names"
        if names:  # as when linking: the KB names found in a passage are candidates too
            from entqa_kit.linking.link_names import LinkNames

            self._names = LinkNames(kb, link)
        narrow = narrow if narrow is not None else [()] * len(passages)
        for passage, found, cut_down in zip(passages, retrieved, narrow):
            mentions, masked = [], []
            for mention, (start, end) in mention_positions(passage, documents[passage.document_id]):
                if is_masked(mention):
                    masked.append(start)
                    continue
                rows = (
                    [r for e in mention.entities if (r := kb.row_of(e)) is not None] if mention.in_kb else []
                )
                mentions.append((start, end, rows[0] if rows else None))
            if any(row is not None for _, _, row in mentions):
                named = self._name_rows(passage, documents[passage.document_id]) if names else []
                candidates = tuple(dict.fromkeys([*named, *(int(r) for r in found if r >= 0)]))
                example = JointExample(passage, tuple(mentions), candidates, tuple(masked), cut_down)
                self.examples.append(example)
        shown = {r for x in self.examples for r in (*x.retrieved, *x.narrow)}
        self.tokens.fill(shown | self._gold_rows())

    def _name_rows(self, passage: Passage, document: Document) -> list[int]:
        """Rows of the KB names matched inside the passage (at most ``name_candidates``)."""
        inside = [m.row for m in self._names.in_passage(document.text, passage)]
        return list(dict.fromkeys(inside))[: self.link.name_candidates]

    def _gold_rows(self) -> set[int]:
        return {row for x in self.examples for _, _, row in x.mentions if row is not None}

    def num_examples(self) -> int:
        return len(self.examples)

    def candidates(self, example: JointExample, rng: np.random.Generator) -> list[int]:
        """Golds (each dropped with ``gold_drop``), then the retriever's best others, shuffled; with
        chance ``narrow_kb`` those of a cut-down KB, where golds outside it are not shown."""
        golds = list(dict.fromkeys(row for _, _, row in example.mentions if row is not None))
        retrieved = example.retrieved
        if example.narrow and rng.random() < self.train.narrow_kb:
            retrieved = example.narrow
            golds = [row for row in golds if row in retrieved]
        kept = [row for row in golds if rng.random() >= self.train.gold_drop]
        others = [r for r in retrieved if r not in golds][: self.k - len(kept)]
        rows = (kept + others)[: self.k]
        rng.shuffle(rows)
        return rows

    def batches(self, epoch: int, rng: np.random.Generator) -> Iterator[Sequence[Any]]:
        from entqa_kit.reading.joint import GoldSpan, joint_layout

        order = rng.permutation(len(self.examples))
        for begin in range(0, len(order), self.train.batch_size):
            batch = []
            for index in order[begin : begin + self.train.batch_size]:
                example = self.examples[index]
                rows = self.candidates(example, rng)
                slot_of = {row: slot for slot, row in enumerate(rows, start=1)}
                layout = joint_layout(
                    example.passage, [self.tokens[r] for r in rows], self.markers, self.bundle.tokenizer
                )
                golds = [
                    GoldSpan(len(batch), start, end, slot_of.get(row, 0) if row is not None else 0)
                    for start, end, row in example.mentions
                    if end - start < self.link.max_span_tokens  # a longer span cannot be decoded
                ]
                batch.append((layout, golds, example.masked))
            yield batch

    def loss(self, batch: Sequence[Any]):
        from entqa_kit.reading.joint import batch_layouts, joint_loss

        inputs = batch_layouts([item[0] for item in batch], self.bundle.tokenizer.pad_token_id or 0)
        inputs = without_positions(inputs, [item[2] for item in batch]).to(self.bundle.device)
        golds = [g for item in batch for g in item[1]]
        return joint_loss(self.bundle.model, inputs, golds, self.link.max_span_tokens)
