"""The spaCy component ``entqa_linker`` (registered through the ``spacy_factories`` entry point).

    nlp = spacy.blank("en")
    nlp.add_pipe("entqa_linker", config={"index": "IDX", "model": None})
    doc = nlp("Paris is the capital of France.")
    [(e.text, e.kb_id_, e._.entqa_score) for e in doc.ents]

Every linked mention becomes a span (character offsets widened to whole tokens) with the KB id in
``kb_id_``, the entity's first KB type (else ``ENTITY``) as label and the score in ``span._.entqa_score``.
All of them go to ``doc.spans["entqa"]``; without ``allow_overlaps`` they also replace ``doc.ents``
(with ``allow_overlaps`` spans may overlap, so only ``doc.spans`` holds them). ``nlp.pipe(texts,
batch_size=n)`` links n documents per linker call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, minibatch

from entqa_kit.core.records import Document, LinkedDocument
from entqa_kit.serving.engine import link_many

SCORE = "entqa_score"


def load_linker(index: str, model: str | None, threshold: float | None, top_k: int | None, overlaps: bool):
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.default import model_or_default

    return Linker.from_pretrained(
        model_dir=model_or_default(model),
        index_dir=index,
        threshold=threshold,
        top_k=top_k,
        allow_overlaps=overlaps,
    )


@Language.factory(
    "entqa_linker",
    default_config={
        "index": None,
        "model": None,
        "threshold": None,
        "top_k": None,
        "batch_size": 64,
        "allow_overlaps": False,
        "spans_key": "entqa",
    },
    assigns=["doc.ents", "doc.spans", "token.ent_kb_id", "span._.entqa_score"],
)
def make_entqa_linker(
    nlp: Language,
    name: str,
    index: str | None,
    model: str | None,
    threshold: float | None,
    top_k: int | None,
    batch_size: int,
    allow_overlaps: bool,
    spans_key: str,
) -> EntQALinker:
    if not index:
        from entqa_kit.core.errors import EntQAError

        raise EntQAError(
            "E041", what="entqa_linker config 'index'", expected="an index directory", value=index
        )
    linker = load_linker(index, model, threshold, top_k, allow_overlaps)
    return EntQALinker(name, linker, batch_size, allow_overlaps, spans_key)


class EntQALinker:
    """A pipeline component around a Linker (any object with ``link_document`` and ``index.kb``)."""

    def __init__(
        self, name: str, linker, batch_size: int = 64, allow_overlaps: bool = False, spans_key="entqa"
    ):
        if not Span.has_extension(SCORE):
            Span.set_extension(SCORE, default=None)
        self.name = name
        self.linker = linker
        self.batch_size = batch_size
        self.allow_overlaps = allow_overlaps
        self.spans_key = spans_key
        self._labels: dict[str, str] = {}

    def __call__(self, doc: Doc) -> Doc:
        (linked,) = link_many(self.linker, [Document(id="0", text=doc.text)], self.batch_size)
        return self.set_annotations(doc, linked)

    def pipe(self, docs: Iterable[Doc], batch_size: int = 16) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            documents = [Document(id=str(i), text=doc.text) for i, doc in enumerate(batch)]
            for doc, linked in zip(batch, link_many(self.linker, documents, self.batch_size)):
                yield self.set_annotations(doc, linked)

    def set_annotations(self, doc: Doc, linked: LinkedDocument) -> Doc:
        spans = []
        for mention in linked.mentions:
            span = doc.char_span(
                mention.start,
                mention.end,
                label=self._label(mention.entity),
                kb_id=mention.entity,
                alignment_mode="expand",
            )
            if span is None:  # only whitespace: no token to hold it
                continue
            span._.set(SCORE, mention.score)
            spans.append(span)
        doc.spans[self.spans_key] = spans
        if not self.allow_overlaps:
            doc.ents = filter_spans(spans)  # widening to tokens can make two spans share one
            for ent in doc.ents:
                ent._.set(
                    SCORE, next(s._.get(SCORE) for s in spans if (s.start, s.end) == (ent.start, ent.end))
                )
        return doc

    def _label(self, entity_id: str) -> str:
        if entity_id not in self._labels:
            entity = self.linker.index.kb.by_id(entity_id)
            self._labels[entity_id] = entity.types[0] if entity is not None and entity.types else "ENTITY"
        return self._labels[entity_id]
