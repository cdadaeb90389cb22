"""Linking: retrieve -> read -> threshold -> merge, per document, batched.

``Linker.from_pretrained(model_dir, index_dir).link(texts_or_documents)`` returns one
:class:`LinkedDocument` per input. Every (passage, candidate) pair of a document is
read in batches under ``torch.inference_mode``; decoding is vectorised over pairs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from entqa_kit.core.config import PassageConfig, ReaderConfig, validated
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan, Passage
from entqa_kit.documents.passages import make_passages
from entqa_kit.index.dense import DenseIndex
from entqa_kit.models.model_dir import read_model_config
from entqa_kit.reading.reader_io import EntityTokenCache, ReaderBundle, check_same_vocabulary, load_reader
from entqa_kit.reading.spans import ScoredSpan, decode_batch, merge_spans, to_characters
from entqa_kit.retrieval.loading import load_retriever
from entqa_kit.retrieval.retriever import Retriever

RetrievalObserver = Callable[[list[Passage], np.ndarray], None]


class Linker:
    def __init__(
        self,
        retriever: Retriever,
        passage_config: PassageConfig,
        index: DenseIndex,
        reader: ReaderBundle,
        config: ReaderConfig,
        allow_overlaps: bool = False,
    ) -> None:
        self.retriever = retriever
        self.passage_config = inference_passages(passage_config, config)
        self.index = index
        self.reader = quantized(reader) if config.quantize == "int8" else reader
        self.config = config
        self.allow_overlaps = allow_overlaps
        entity_tokens = config.test_entity_tokens or config.max_entity_tokens
        self.entity_tokens = EntityTokenCache(index.kb, reader.tokenizer, entity_tokens)
        self.profile: Counter[str] = Counter()
        """Seconds per stage so far (retrieve, read, decode), and passages and pairs read."""

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path,
        index_dir: str | Path,
        threshold: float | None = None,
        top_k: int | None = None,
        allow_overlaps: bool = False,
        **reader_settings: object,
    ) -> Linker:
        """The model's linker; ``reader_settings`` override its saved ReaderConfig (None: keep)."""
        model_dir = Path(model_dir)
        saved = read_model_config(model_dir)
        if saved.reader is None:
            raise EntQAError("E042", path=model_dir)
        named = {"threshold": threshold, "test_k": top_k}
        overrides = {k: v for k, v in reader_settings.items() if v is not None}
        overrides |= {k: v for k, v in named.items() if v is not None}
        config = validated(ReaderConfig, **(saved.reader.model_dump() | overrides))
        retriever, passage_config = load_retriever(str(model_dir))
        index = DenseIndex.load(Path(index_dir), model_fingerprint=retriever.entity_encoder.fingerprint)
        reader = load_reader(model_dir, config.dtype)
        check_same_vocabulary(retriever.passage_encoder.tokenizer, reader.tokenizer, str(model_dir))
        return cls(retriever, passage_config, index, reader, config, allow_overlaps)

    def link(self, inputs: Iterable[str | Document], batch_size: int = 64) -> list[LinkedDocument]:
        documents = (Document(id=str(i), text=x) if isinstance(x, str) else x for i, x in enumerate(inputs))
        return [self.link_document(d, batch_size) for d in documents]

    def link_document(
        self, document: Document, batch_size: int = 64, on_retrieval: RetrievalObserver | None = None
    ) -> LinkedDocument:
        """Link one document; ``on_retrieval`` (if given) sees its passages and their query vectors."""
        passages = make_passages(document, self.retriever.passage_encoder.tokenizer, self.passage_config)
        if not passages:
            return LinkedDocument(id=document.id, mentions=[])
        clock = time.perf_counter()
        vectors = self.retriever.encode_passages(passages, batch_size)
        if on_retrieval is not None:
            on_retrieval(passages, vectors)
        scores, rows = self.index.search(vectors, self.config.test_k)
        read = rows >= 0
        if self.config.candidate_margin is not None:
            read &= scores >= scores[:, :1] - self.config.candidate_margin
        self.entity_tokens.fill(rows[read])
        pair_passage = np.repeat(np.arange(len(passages)), rows.shape[1])
        pair_row = rows.reshape(-1)
        valid = read.reshape(-1)
        pair_passage, pair_row = pair_passage[valid], pair_row[valid]
        clock = self._lap("retrieve", clock)
        start_logp, end_logp, rerank_logits = self._read_pairs(passages, pair_passage, pair_row, batch_size)
        clock = self._lap("read", clock)
        self.profile["pairs"] += len(pair_row)
        self.profile["passages"] += len(passages)
        rerank_probability = _softmax_by_group(rerank_logits, pair_passage, len(passages))
        passage_lengths = np.array([len(p.token_ids) for p in passages])
        kept = decode_batch(
            start_logp,
            end_logp,
            passage_lengths[pair_passage],
            rerank_probability,
            self.config.threshold,
            self.config.top_p,
            self.config.max_span_tokens,
        )
        kept_rows = sorted({int(pair_row[span.pair]) for span in kept})
        entities = dict(zip(kept_rows, self.index.kb.by_rows(kept_rows)))
        scored = []
        for span in kept:
            start, end = to_characters(span, passages[pair_passage[span.pair]].offsets)
            scored.append(ScoredSpan(start, end, entities[int(pair_row[span.pair])].id, span.score))
        merged = merge_spans(scored, self.allow_overlaps)
        titles = {e.id: e.title for e in entities.values()}
        self._lap("decode", clock)
        return LinkedDocument(
            id=document.id,
            mentions=[
                LinkedSpan(
                    start=s.start,
                    end=s.end,
                    text=document.text[s.start : s.end],
                    entity=s.entity,
                    title=titles[s.entity],
                    score=round(s.score, 6),
                )
                for s in merged
            ],
        )

    def _lap(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.profile[stage] += now - since
        return now

    def _read_pairs(
        self, passages, pair_passage: np.ndarray, pair_row: np.ndarray, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start/end log-probabilities ``[pairs, L + 1]`` and rerank logits ``[pairs]``, in pair order.

        Pairs are read in batches of similar length (entity texts vary from a title to 64 wordpieces),
        so little compute goes to padding; results are put back in the original order.
        """
        import torch

        from entqa_kit.reading.pair import build_inputs

        width = self.passage_config.length + 1
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
        enabled = self.reader.compute_dtype == "bfloat16"
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
            for begin in range(0, len(order), batch_size):
                chunk = order[begin : begin + batch_size]
                inputs = build_inputs(
                    [passages[pair_passage[i]] for i in chunk],
                    [entity_ids[i] for i in chunk],
                    self.reader.tokenizer,
                )
                starts, ends, logits = self.reader.model(inputs)
                start_logp[chunk] = _fixed_width(starts, width)
                end_logp[chunk] = _fixed_width(ends, width)
                rerank[chunk] = logits.float().numpy()
        return start_logp, end_logp, rerank


def inference_passages(trained: PassageConfig, config: ReaderConfig) -> PassageConfig:
    """The trained passage settings, with ``test_stride`` when it is set."""
    if config.test_stride is None:
        return trained
    if config.test_stride > trained.length:
        detail = f"test_stride {config.test_stride} > passage length {trained.length} would skip text"
        raise EntQAError("E040", detail=detail)
    return trained.model_copy(update={"stride": config.test_stride})


def quantized(reader: ReaderBundle) -> ReaderBundle:
    """The reader with dynamic int8 Linear layers (weights int8, activations quantised per batch)."""
    import torch

    model = torch.ao.quantization.quantize_dynamic(reader.model, {torch.nn.Linear}, dtype=torch.qint8)
    return ReaderBundle(model, reader.tokenizer, "float32")


def _fixed_width(logp, width: int) -> np.ndarray:
    """Columns 0..width-1 (null + passage positions) as float numpy, padding with -inf."""
    array = logp.float().numpy()
    if array.shape[1] >= width:
        return array[:, :width]
    return np.pad(array, ((0, 0), (0, width - array.shape[1])), constant_values=-np.inf)


def _softmax_by_group(logits: np.ndarray, groups: np.ndarray, num_groups: int) -> np.ndarray:
    """Softmax of ``logits`` within each group (the K candidates of one passage)."""
    maxima = np.full(num_groups, -np.inf)
    np.maximum.at(maxima, groups, logits)
    exp = np.exp(logits - maxima[groups])
    sums = np.zeros(num_groups)
    np.add.at(sums, groups, exp)
    return exp / sums[groups]
