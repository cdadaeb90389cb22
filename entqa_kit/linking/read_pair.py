"""Reading with the EntQA pair reader: one pass per (passage, candidate), spans per candidate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from entqa_kit.core.config import LinkConfig, PassageConfig, ReaderConfig
from entqa_kit.core.device import autocast
from entqa_kit.core.records import Passage
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.linking.positions import token_span
from entqa_kit.reading.reader_io import EntityTokenCache, ReaderBundle
from entqa_kit.reading.spans import ScoredSpan, decode_batch, to_characters


class PairReading:
    """Reads every (passage, candidate) pair in length-sorted batches; decodes spans per pair."""

    def __init__(
        self,
        reader: ReaderBundle,
        reader_config: ReaderConfig,
        config: LinkConfig,
        kb: KnowledgeBase,
        passage_config: PassageConfig,
    ) -> None:
        self.reader, self.config, self.kb = reader, config, kb
        self.width = passage_config.length + 1
        entity_tokens = config.test_entity_tokens or reader_config.max_entity_tokens
        self.entity_tokens = EntityTokenCache(kb, reader.tokenizer, entity_tokens)

    def _pairs(self, passages, rows: np.ndarray, read: np.ndarray, batch_size: int, profile: Counter):
        self.entity_tokens.fill(rows[read])
        pair_passage = np.repeat(np.arange(len(passages)), rows.shape[1])[read.reshape(-1)]
        pair_row = rows.reshape(-1)[read.reshape(-1)]
        start_logp, end_logp, rerank_logits = self._read_pairs(passages, pair_passage, pair_row, batch_size)
        profile["pairs"] += len(pair_row)
        rerank = softmax_by_group(rerank_logits, pair_passage, len(passages))
        return pair_passage, pair_row, start_logp, end_logp, rerank

    def spans(
        self, passages: list[Passage], rows: np.ndarray, read: np.ndarray, batch_size: int, profile: Counter
    ) -> list[tuple[int, ScoredSpan]]:
        """``(passage index, span)`` for every span kept above the threshold."""
        pair_passage, pair_row, start_logp, end_logp, rerank = self._pairs(
            passages, rows, read, batch_size, profile
        )
        passage_lengths = np.array([len(p.token_ids) for p in passages])
        kept = decode_batch(
            start_logp,
            end_logp,
            passage_lengths[pair_passage],
            rerank,
            self.config.threshold,
            self.config.top_p,
            self.config.max_span_tokens,
        )
        ids = self.kb.ids_of_rows({int(pair_row[s.pair]) for s in kept})
        found = []
        for span in kept:
            start, end = to_characters(span, passages[pair_passage[span.pair]].offsets)
            scored = ScoredSpan(start, end, ids[int(pair_row[span.pair])], span.score)
            found.append((int(pair_passage[span.pair]), scored))
        return found

    def given_spans(
        self,
        passages: list[Passage],
        rows: np.ndarray,
        read: np.ndarray,
        mentions: Sequence[tuple[int, int]],
        batch_size: int,
        profile: Counter,
    ) -> list[ScoredSpan]:
        """Every candidate's score at each given span: ``p_rerank * p_start * p_end`` there."""
        pair_passage, pair_row, start_logp, end_logp, rerank = self._pairs(
            passages, rows, read, batch_size, profile
        )
        ids = self.kb.ids_of_rows(set(pair_row.tolist()))
        found = []
        for char_start, char_end in mentions:
            for index, passage in enumerate(passages):
                positions = token_span(passage, char_start, char_end)
                if positions is None:
                    continue
                start, end = positions
                pairs = np.flatnonzero(pair_passage == index)
                scores = rerank[pairs] * np.exp(start_logp[pairs, start] + end_logp[pairs, end])
                found += [
                    ScoredSpan(char_start, char_end, ids[int(pair_row[p])], float(s))
                    for p, s in zip(pairs, scores)
                ]
        return found

    def _read_pairs(
        self, passages, pair_passage: np.ndarray, pair_row: np.ndarray, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start/end log-probabilities ``[pairs, L + 1]`` and rerank logits ``[pairs]``, in pair order.

        Pairs are read in batches of similar length (entity texts vary from a title to 64 wordpieces),
        so little compute goes to padding; results are put back in the original order.
        """
        import torch

        from entqa_kit.reading.pair import build_inputs

        width = self.width
        entity_ids = [self.entity_tokens[int(r)] for r in pair_row]
        lengths = np.array(
            [
                len(passages[p].token_ids) + len(passages[p].topic_ids) + len(e)
                for p, e in zip(pair_passage, entity_ids)
            ]
        )
        order = np.argsort(lengths, kind="stable")
        start_logp = np.empty((len(pair_row), width), dtype=np.float32)
        end_logp = np.empty((len(pair_row), width), dtype=np.float32)
        rerank = np.empty(len(pair_row), dtype=np.float32)
        device = self.reader.device
        mixed = autocast(device, enabled=self.reader.compute_dtype == "bfloat16")
        with torch.inference_mode(), mixed:
            for begin in range(0, len(order), batch_size):
                chunk = order[begin : begin + batch_size]
                inputs = build_inputs(
                    [passages[pair_passage[i]] for i in chunk],
                    [entity_ids[i] for i in chunk],
                    self.reader.tokenizer,
                )
                starts, ends, logits = self.reader.model(inputs.to(device))
                start_logp[chunk] = _fixed_width(starts, width)
                end_logp[chunk] = _fixed_width(ends, width)
                rerank[chunk] = logits.float().cpu().numpy()
        return start_logp, end_logp, rerank


def _fixed_width(logp, width: int) -> np.ndarray:
    """Columns 0..width-1 (null + passage positions) as float numpy, padding with -inf."""
    array = logp.float().cpu().numpy()
    if array.shape[1] >= width:
        return array[:, :width]
    return np.pad(array, ((0, 0), (0, width - array.shape[1])), constant_values=-np.inf)


def softmax_by_group(logits: np.ndarray, groups: np.ndarray, num_groups: int) -> np.ndarray:
    """Softmax of ``logits`` within each group (the K candidates of one passage)."""
    maxima = np.full(num_groups, -np.inf)
    np.maximum.at(maxima, groups, logits)
    exp = np.exp(logits - maxima[groups])
    sums = np.zeros(num_groups)
    np.add.at(sums, groups, exp)
    return exp / sums[groups]
