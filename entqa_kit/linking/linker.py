"""Linking: retrieve -> read -> threshold -> merge, per document, batched.

``Linker.from_pretrained(index_dir).link(texts_or_documents)`` returns one
:class:`LinkedDocument` per input, with the shipped default model when no ``model_dir`` is
given. The reader is the model's own kind: the EntQA pair reader (one pass per passage and
candidate) or the joint reader (one pass per passage with all its candidates). Given
``mentions``, a document is linked at exactly those spans (D2KB).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from entqa_kit.core.config import LinkConfig, PassageConfig, ReaderConfig, validated
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan, Passage
from entqa_kit.documents.passages import make_passages
from entqa_kit.index.dense import DenseIndex
from entqa_kit.kb.labelled_names import LabelledNames, load_labelled_names
from entqa_kit.linking.abbreviation_links import link_abbreviations
from entqa_kit.linking.name_anchors import anchored_spans
from entqa_kit.linking.name_fallback import fill_with_names
from entqa_kit.linking.read_joint import JointReading
from entqa_kit.linking.read_pair import PairReading
from entqa_kit.models.default import model_or_default
from entqa_kit.models.model_dir import read_model_config
from entqa_kit.reading.reader_io import ReaderBundle, check_same_vocabulary, load_reader
from entqa_kit.reading.spans import ScoredSpan, merge_spans
from entqa_kit.retrieval.loading import load_retriever
from entqa_kit.retrieval.retriever import Retriever

RetrievalObserver = Callable[[list[Passage], np.ndarray], None]
CharSpan = tuple[int, int]

NAMED_OVERRIDES = {"top_k": "test_k"}


class Linker:
    def __init__(
        self,
        retriever: Retriever,
        passage_config: PassageConfig,
        index: DenseIndex,
        reader: ReaderBundle,
        config: LinkConfig,
        reader_config: ReaderConfig | None = None,
        trained_slots: int | None = None,
        labelled_names: LabelledNames | None = None,
    ) -> None:
        """``trained_slots``: the candidates per passage the reader was trained with (joint reader);
        ``labelled_names``: the names the model learnt from labels, for its name matcher."""
        self.retriever = retriever
        self.passage_config = inference_passages(passage_config, config)
        self.index = index
        self.reader_config = reader_config or ReaderConfig()
        self.reader = quantized(reader) if config.quantize == "int8" else reader
        self.config = config
        decoding = config.model_copy(update={"threshold": decode_floor(config)})
        parts = (self.reader, self.reader_config, decoding, index.kb, self.passage_config)
        if self.reader_config.kind == "joint":
            self.reading = JointReading(*parts, trained_slots)
        else:
            self.reading = PairReading(*parts)
        self.labelled_names = labelled_names
        self._names = None  # the KB's name matcher, built on first use (names)
        self.profile: Counter[str] = Counter()
        """Seconds per stage so far (retrieve, read, decode), and passages and reader passes."""

    @property
    def allow_overlaps(self) -> bool:
        return self.config.allow_overlaps

    @property
    def entity_tokens(self):
        """The cache of entity wordpieces the reader reads, per KB row."""
        return self.reading.entity_tokens

    @classmethod
    def from_pretrained(
        cls, index_dir: str | Path, model_dir: str | Path | None = None, **link_overrides: object
    ) -> Linker:
        """The linker of ``model_dir`` (default: the shipped model) over the index in ``index_dir``.

        ``link_overrides`` replace saved link settings (``threshold``, ``top_k``/``test_k``,
        ``test_stride``, ``allow_overlaps``, ...); None keeps the saved value, and a name that is
        not a link setting is refused (E040).
        """
        model_dir = Path(model_or_default(model_dir))
        saved = read_model_config(model_dir)
        if saved.reader is None:
            raise EntQAError("E042", path=model_dir)
        overrides = {k: v for k, v in link_overrides.items() if v is not None and k not in NAMED_OVERRIDES}
        overrides |= {NAMED_OVERRIDES[k]: v for k, v in link_overrides.items() if k in NAMED_OVERRIDES and v}
        unknown = sorted(set(overrides) - set(LinkConfig.model_fields))
        if unknown:
            known = ", ".join(sorted(LinkConfig.model_fields))
            raise EntQAError(
                "E040", detail=f"{', '.join(unknown)} is not a link setting (use one of: {known})"
            )
        pair_only = sorted({"test_entity_tokens", "top_p"} & set(overrides))
        if saved.reader.kind == "joint" and pair_only:
            detail = (
                f"{', '.join(pair_only)} applies to the pair reader only; this model's joint reader reads "
                f"{saved.reader.candidate_title_tokens} title + {saved.reader.candidate_description_tokens} "
                "description wordpieces per candidate and one span per start"
            )
            raise EntQAError("E040", detail=detail)
        base = (saved.link or LinkConfig()).model_dump()
        config = validated(LinkConfig, **(base | overrides))
        retriever, passage_config = load_retriever(str(model_dir))
        index = DenseIndex.load(Path(index_dir), model_fingerprint=retriever.entity_encoder.fingerprint)
        reader = load_reader(model_dir, config.dtype, saved.reader)
        check_same_vocabulary(retriever.passage_encoder.tokenizer, reader.tokenizer, str(model_dir))
        trained = saved.reader_train.train_k if saved.reader_train else None
        learnt = load_labelled_names(model_dir) if config.labelled_names else None
        return cls(retriever, passage_config, index, reader, config, saved.reader, trained, learnt)

    def link(
        self, inputs: Iterable[str | Document], batch_size: int = 64, documents_per_batch: int = 16
    ) -> list[LinkedDocument]:
        """Link texts or documents, ``documents_per_batch`` at a time (their passages share batches)."""
        documents = [Document(id=str(i), text=x) if isinstance(x, str) else x for i, x in enumerate(inputs)]
        linked: list[LinkedDocument] = []
        for begin in range(0, len(documents), documents_per_batch):
            linked += self.link_documents(documents[begin : begin + documents_per_batch], batch_size)
        return linked

    def link_document(
        self,
        document: Document,
        batch_size: int = 64,
        on_retrieval: RetrievalObserver | None = None,
        mentions: Sequence[CharSpan] | None = None,
    ) -> LinkedDocument:
        """Link one document; with ``mentions``, link exactly those character spans (D2KB).

        ``on_retrieval`` (if given) sees the passages and their query vectors.
        """
        passages = make_passages(document, self.retriever.passage_encoder.tokenizer, self.passage_config)
        if not passages:
            return LinkedDocument(id=document.id, mentions=[])
        if mentions is None:
            return self._link_passages([document], [passages], batch_size, on_retrieval)[0]
        rows, read = self._retrieve([document], [passages], passages, batch_size, on_retrieval)
        clock = time.perf_counter()
        found = self.reading.given_spans(passages, rows, read, list(mentions), batch_size, self.profile)
        clock = self._lap("read", clock)
        linked = self._linked_spans(document, best_per_span(merge_spans(found, True)))
        self._lap("decode", clock)
        return LinkedDocument(id=document.id, mentions=linked)

    def link_documents(self, documents: Sequence[Document], batch_size: int = 64) -> list[LinkedDocument]:
        """Link several documents together: their passages are encoded, searched and read in shared
        batches (fewer, fuller passes than one document at a time); the results are the same."""
        tokenizer = self.retriever.passage_encoder.tokenizer
        per_document = [make_passages(d, tokenizer, self.passage_config) for d in documents]
        return self._link_passages(list(documents), per_document, batch_size)

    def _retrieve(self, documents, per_document, passages, batch_size, on_retrieval=None):
        """Candidate rows ``[passages, K(+names)]`` and which of them to read."""
        clock = time.perf_counter()
        vectors = self.retriever.encode_passages(passages, batch_size)
        if on_retrieval is not None:
            on_retrieval(passages, vectors)
        scores, rows = self.index.search(vectors, self.config.test_k)
        read = rows >= 0
        if self.config.candidate_margin is not None:
            read &= scores >= scores[:, :1] - self.config.candidate_margin
        if self.config.candidates == "dense+names":
            rows, read = self._with_name_candidates(
                self._passage_matches(documents, per_document), rows, read
            )
        self._lap("retrieve", clock)
        self.profile["passages"] += len(passages)
        return rows, read

    def _link_passages(
        self,
        documents: list[Document],
        per_document: list[list[Passage]],
        batch_size: int,
        on_retrieval: RetrievalObserver | None = None,
    ) -> list[LinkedDocument]:
        passages = [p for group in per_document for p in group]
        if not passages:
            return [LinkedDocument(id=d.id, mentions=[]) for d in documents]
        owner = np.repeat(np.arange(len(documents)), [len(group) for group in per_document])
        rows, read = self._retrieve(documents, per_document, passages, batch_size, on_retrieval)
        clock = time.perf_counter()
        found = self.reading.spans(passages, rows, read, batch_size, self.profile)
        clock = self._lap("read", clock)
        by_document: list[list[ScoredSpan]] = [[] for _ in documents]
        for passage_index, span in found:
            by_document[owner[passage_index]].append(span)
        merged = [
            self.post_process(d, merge_spans(spans, self.config.allow_overlaps))
            for d, spans in zip(documents, by_document)
        ]
        linked = [
            LinkedDocument(id=d.id, mentions=self._linked_spans(d, s)) for d, s in zip(documents, merged)
        ]
        self._lap("decode", clock)
        return linked

    def post_process(
        self,
        document: Document,
        spans: list[ScoredSpan],
        threshold: float | None = None,
        name_fallback: bool | None = None,
        abbreviations: bool | None = None,
    ) -> list[ScoredSpan]:
        """The reader's spans of ``document`` kept at ``threshold`` (default γ), with the KB-name
        fallback (and the name-anchored spans below γ) and then the abbreviations filled in, as the
        link settings (or the arguments) ask."""
        threshold = self.config.threshold if threshold is None else threshold
        kept = [s for s in spans if s.score > threshold]
        if self.config.name_fallback if name_fallback is None else name_fallback:
            matches = self.name_matches(document.text)
            if self.config.name_anchor_floor is not None:
                kept = anchored_spans(kept, spans, matches, threshold, self.config.name_anchor_floor)
            kept = fill_with_names(kept, matches, threshold)
        if self.config.abbreviations if abbreviations is None else abbreviations:
            kept = link_abbreviations(document.text, kept)
        return kept

    @property
    def names(self):
        """The linker's KB-name matcher (:class:`~entqa_kit.linking.link_names.LinkNames`), built on
        first use."""
        if self._names is None:
            from entqa_kit.linking.link_names import LinkNames

            self._names = LinkNames(self.index.kb, self.config, self.labelled_names)
        return self._names

    def name_matches(self, text: str) -> list:
        """The KB's names and aliases found in ``text`` (``entqa-kit silver``'s matcher, default filters)."""
        return list(self.names.find(text))

    def _passage_matches(self, documents: list[Document], per_document: list[list[Passage]]) -> list[list]:
        """Each passage's KB-name matches, in passage order."""
        return [self.names.in_passage(d.text, p) for d, group in zip(documents, per_document) for p in group]

    def _with_name_candidates(
        self, matches: list[list], rows: np.ndarray, read: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Append each passage's KB-name matches (not already among its dense candidates) to its row."""
        extra = []
        for inside, found in zip(matches, rows):
            have = set(found.tolist())
            new = [r for r in dict.fromkeys(m.row for m in inside) if r not in have][
                : self.config.name_candidates
            ]
            extra.append(new)
        width = max((len(x) for x in extra), default=0)
        if width == 0:
            return rows, read
        added = np.full((len(rows), width), -1, dtype=rows.dtype)
        for i, new in enumerate(extra):
            added[i, : len(new)] = new
        return np.concatenate([rows, added], axis=1), np.concatenate([read, added >= 0], axis=1)

    def _linked_spans(self, document: Document, spans: list[ScoredSpan]) -> list[LinkedSpan]:
        kb = self.index.kb
        titles = {i: e.title for i in sorted({s.entity for s in spans}) if (e := kb.by_id(i)) is not None}
        return [
            LinkedSpan(
                start=s.start,
                end=s.end,
                text=document.text[s.start : s.end],
                entity=s.entity,
                title=titles.get(s.entity, s.entity),
                score=round(s.score, 6),
            )
            for s in spans
        ]

    def _lap(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.profile[stage] += now - since
        return now


def best_per_span(spans: list[ScoredSpan]) -> list[ScoredSpan]:
    """One entity per character span: the best-scored one."""
    best: dict[CharSpan, ScoredSpan] = {}
    for span in spans:
        key = (span.start, span.end)
        if key not in best or span.score > best[key].score:
            best[key] = span
    return sorted(best.values(), key=lambda s: (s.start, s.end))


def decode_floor(config: LinkConfig) -> float:
    """The score down to which the reader's spans are decoded: γ, or the name-anchor floor below it
    (:meth:`Linker.post_process` keeps what passes γ)."""
    if config.name_anchor_floor is None:
        return config.threshold
    return min(config.threshold, config.name_anchor_floor)


def inference_passages(trained: PassageConfig, config: LinkConfig) -> PassageConfig:
    """The trained passage settings, with ``test_stride`` when it is set."""
    if config.test_stride is None:
        return trained
    if config.test_stride > trained.length:
        detail = f"test_stride {config.test_stride} > passage length {trained.length} would skip text"
        raise EntQAError("E040", detail=detail)
    return trained.model_copy(update={"stride": config.test_stride})


def quantized(reader: ReaderBundle) -> ReaderBundle:
    """The reader with dynamic int8 Linear layers (weights int8, activations quantised per batch).

    Dynamic int8 is a CPU kernel, so a reader on a GPU comes back to the CPU (with a warning)."""
    import torch

    if reader.device != "cpu":
        from entqa_kit.core.progress import stderr_console

        warning = "[yellow]warning:[/yellow] quantize int8 runs the reader on the CPU"
        stderr_console.print(warning, soft_wrap=True)
        reader.model.to("cpu")
    model = torch.ao.quantization.quantize_dynamic(reader.model, {torch.nn.Linear}, dtype=torch.qint8)
    return ReaderBundle(model, reader.tokenizer, "float32")
