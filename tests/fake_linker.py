"""A stand-in for the Linker in serving tests: links KB titles and aliases found in the text.

It has what the server, GERBIL and spaCy use of a Linker (``index``, ``config``, the entity tower
for /search, ``link_document`` with ``mentions``) and records every call, so tests can count
batches, block the model (``gate``) and make it fail (a document containing ``BOOM``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan


@dataclass
class Calls:
    documents: list[tuple[str, int, float, tuple | None]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event | None = None
    gate_text: str | None = None  # gate only documents holding this text (None: every document)


class FakeLinker:
    def __init__(
        self, index, encoder=None, threshold: float = 0.5, test_k: int = 8, calls: Calls | None = None
    ):
        self.index = index
        self.retriever = SimpleNamespace(entity_encoder=encoder)
        self.config = SimpleNamespace(threshold=threshold, test_k=test_k)
        self.calls = calls or Calls()
        names = []
        for _, entity in index.kb.iter_entities():
            names += [(name, entity) for name in (entity.title, *entity.aliases)]
        self.names = sorted(names, key=lambda item: -len(item[0]))

    def with_link_settings(self, test_k: int, threshold: float) -> FakeLinker:
        return FakeLinker(self.index, self.retriever.entity_encoder, threshold, test_k, self.calls)

    def with_index(self, index) -> FakeLinker:
        """The same fake over another index (``POST /admin/reload``): its names come from that KB."""
        encoder = self.retriever.entity_encoder
        return type(self)(index, encoder, self.config.threshold, self.config.test_k, self.calls)

    def link_document(self, document: Document, batch_size: int = 64, mentions=None) -> LinkedDocument:
        calls = self.calls
        calls.documents.append((document.id, self.config.test_k, self.config.threshold, mentions))
        calls.entered.set()
        if calls.gate is not None and (calls.gate_text is None or calls.gate_text in document.text):
            assert calls.gate.wait(30), "the test never opened the gate"
        if "BOOM" in document.text:
            raise RuntimeError("the model exploded at /secret/path.py line 3")
        found = self._matches(document.text) if mentions is None else self._given(document.text, mentions)
        return LinkedDocument(id=document.id, mentions=[s for s in found if s.score > self.config.threshold])

    def _span(self, text: str, start: int, end: int, entity) -> LinkedSpan:
        score = round(min(0.99, 0.4 + 0.05 * len(entity.title)), 6)
        return LinkedSpan(
            start=start, end=end, text=text[start:end], entity=entity.id, title=entity.title, score=score
        )

    def _matches(self, text: str) -> list[LinkedSpan]:
        taken: list[tuple[int, int]] = []
        spans = []
        for name, entity in self.names:
            for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
                if any(match.start() < e and s < match.end() for s, e in taken):
                    continue
                taken.append(match.span())
                spans.append(self._span(text, *match.span(), entity))
        return sorted(spans, key=lambda s: s.start)

    def _given(self, text: str, mentions) -> list[LinkedSpan]:
        by_name = {name.lower(): entity for name, entity in self.names}
        spans = []
        for start, end in mentions:
            entity = by_name.get(text[start:end].lower())
            if entity is not None:
                spans.append(self._span(text, start, end, entity))
        return spans


class BatchingFakeLinker(FakeLinker):
    """A fake that links several documents in one call, as a cross-document batch API would."""

    def link_documents(self, documents, batch_size: int = 64) -> list[LinkedDocument]:
        self.calls.batches.append(len(documents))
        return [self.link_document(d, batch_size) for d in documents]

    def with_link_settings(self, test_k: int, threshold: float) -> BatchingFakeLinker:
        return BatchingFakeLinker(self.index, self.retriever.entity_encoder, threshold, test_k, self.calls)


class SpanlessFakeLinker(FakeLinker):
    """A linker from before D2KB: ``link_document`` takes no ``mentions``."""

    def link_document(self, document: Document, batch_size: int = 64) -> LinkedDocument:  # type: ignore[override]
        return super().link_document(document, batch_size)


class OracleLinker(FakeLinker):
    """Links the given gold mentions ``{text: [(start, end, entity id)]}`` of the documents it knows."""

    def __init__(self, index, gold: dict[str, list[tuple[int, int, str]]]):
        super().__init__(index)
        self.gold = gold

    def link_document(self, document: Document, batch_size: int = 64, mentions=None) -> LinkedDocument:
        self.calls.documents.append((document.id, self.config.test_k, self.config.threshold, mentions))
        text = document.text
        spans = [self._span(text, s, e, self.index.kb.by_id(i)) for s, e, i in self.gold.get(text, [])]
        if mentions is not None:
            spans = [s for s in spans if (s.start, s.end) in set(mentions)]
        return LinkedDocument(id=document.id, mentions=spans)
