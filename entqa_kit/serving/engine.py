"""The model side of the server: a linker, its per-request variants, /search and /entities lookups.

Everything that uses the model runs in the server's one worker thread
(:mod:`entqa_kit.serving.batcher`), so the linker is never used by two threads at once.
``link_batch`` is the shared-batch entry point: it links a batch of queued documents and returns one
result (or one coded error) per document.

Cross-document batching: the documents of a batch that share their settings (top_k, threshold) and
are linked end to end go through ``Linker.link_documents`` in one call: their passages are encoded
together, searched in one index search, and all (passage, candidate) pairs are read in shared
length-sorted batches, then decoded per document; so a shared batch shares model passes. Documents
with given spans (D2KB), a lone document of its settings, or the documents of a shared call that
failed are linked one by one (``link_document``), each answered as soon as it is linked.

Reloading the index (``POST /admin/reload``): ``open_index`` opens the index directory as it is on
disk now (no model involved, so it may run beside a batch), then ``swap_index``, run in the worker
thread between batches, builds a linker over it that shares the loaded retriever and reader, and
puts it in place with one assignment; the KB caches (entity wordpieces, the name matcher, the
per-request variants) start afresh with it.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, Entity, LinkedDocument, SearchHit
from entqa_kit.serving.memory import release_free_memory

log = logging.getLogger("entqa_kit.serving")

CharSpan = tuple[int, int]
_MAX_VARIANTS = 16


@dataclass(frozen=True)
class LinkJob:
    """One document to link, with its request's settings; ``mentions`` given: link exactly those (D2KB)."""

    document: Document
    top_k: int | None = None
    threshold: float | None = None
    mentions: tuple[CharSpan, ...] | None = None

    @property
    def settings(self) -> tuple[int | None, float | None]:
        return self.top_k, self.threshold


class LinkEngine:
    """A loaded linker and what the HTTP endpoints ask of it."""

    def __init__(self, linker, model: str, batch_size: int = 64) -> None:
        self.linker = linker
        self.model = model
        self.batch_size = batch_size
        self._variants: OrderedDict[tuple[int, float], object] = OrderedDict()
        self._search_encoder = None
        self.batches = 0
        """Shared batches linked so far (one ``link_batch`` call each)."""
        self.documents_linked = 0

    @classmethod
    def load(cls, index_dir: str | Path, model_dir: str | Path | None = None, batch_size: int = 64):
        from entqa_kit.linking.linker import Linker
        from entqa_kit.models.default import model_or_default

        model = model_or_default(model_dir)
        return cls(Linker.from_pretrained(model_dir=model, index_dir=index_dir), model, batch_size)

    # what /health reports
    @property
    def index(self):
        return self.linker.index

    @property
    def threshold(self) -> float:
        return float(self.linker.config.threshold)

    @property
    def top_k(self) -> int:
        return int(self.linker.config.test_k)

    @property
    def links_given_spans(self) -> bool:
        """Whether the linker can link given character spans (D2KB)."""
        return "mentions" in inspect.signature(self.linker.link_document).parameters

    def link_batch(
        self, jobs: Sequence[LinkJob], on_result: Callable[[int, object], None] | None = None
    ) -> list[LinkedDocument | Exception]:
        """Link a shared batch; a failing document gets its error, the others their predictions.

        Documents with the same settings are linked together when the linker can (``link_documents``);
        otherwise one by one, each handed to ``on_result(position, result)`` as soon as it is linked.
        """
        on_result = on_result or (lambda position, result: None)
        self.batches += 1
        results: list[LinkedDocument | Exception | None] = [None] * len(jobs)
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, job in enumerate(jobs):
            groups[(job.settings, job.mentions is None)].append(i)
        together = hasattr(self.linker, "link_documents")
        for (settings, end_to_end), members in groups.items():
            if together and end_to_end and len(members) > 1:
                try:
                    linked = link_many(
                        self.variant(*settings), [jobs[i].document for i in members], self.batch_size
                    )
                    for i, document in zip(members, linked):
                        results[i] = document
                        on_result(i, document)
                    continue
                except Exception:  # one by one below, so that only the failing document fails
                    log.debug("shared batch failed; linking its documents one by one", exc_info=True)
            for i in members:
                results[i] = self._guarded(jobs[i])
                on_result(i, results[i])
        self.documents_linked += sum(isinstance(r, LinkedDocument) for r in results)
        release_free_memory()  # keeps the resident size flat over thousands of batches
        return results  # type: ignore[return-value]

    def _guarded(self, job: LinkJob) -> LinkedDocument | Exception:
        try:
            return self._link_one(job)
        except EntQAError as error:
            return error
        except Exception as error:  # a bug or a model failure: this document fails, not the batch
            log.debug("linking document %r failed", job.document.id, exc_info=True)
            return error

    def _link_one(self, job: LinkJob) -> LinkedDocument:
        linker = self.variant(*job.settings)
        if job.mentions is None:
            return linker.link_document(job.document, self.batch_size)
        if not self.links_given_spans:
            raise EntQAError("E129")
        if not job.mentions:
            return LinkedDocument(id=job.document.id, mentions=[])
        return linker.link_document(job.document, self.batch_size, mentions=list(job.mentions))

    def variant(self, top_k: int | None, threshold: float | None):
        """The linker with a request's top_k / threshold (sharing the loaded models and index)."""
        key = (top_k or self.top_k, self.threshold if threshold is None else threshold)
        if key == (self.top_k, self.threshold):
            return self.linker
        if key not in self._variants:
            self._variants[key] = with_link_settings(self.linker, test_k=key[0], threshold=key[1])
            if len(self._variants) > _MAX_VARIANTS:
                self._variants.popitem(last=False)
        self._variants.move_to_end(key)
        return self._variants[key]

    def search(self, text: str, k: int) -> list[SearchHit]:
        """The index's top-k entities for ``text``, as ``entqa-kit search`` finds them."""
        encoder = self._encoder_for_search()
        return self.index.search_hits(encoder.encode_queries([text]), k)[0]

    def _encoder_for_search(self):
        """The index's own encoder: the linker's entity tower when it is that encoder, else loaded once."""
        if self._search_encoder is None:
            manifest = self.index.manifest
            tower = getattr(getattr(self.linker, "retriever", None), "entity_encoder", None)
            same = (
                tower is not None
                and tower.fingerprint == manifest.model_fingerprint
                and tower.config.max_query_tokens == manifest.encoder.max_query_tokens
            )
            if same:
                self._search_encoder = tower
            else:
                from entqa_kit.index.search import load_index_with_encoder

                self._search_encoder = load_index_with_encoder(self.index.directory)[1]
        return self._search_encoder

    def entity(self, entity_id: str) -> Entity:
        entity = self.index.kb.by_id(entity_id)
        if entity is None:
            raise EntQAError("E125", entity_id=entity_id)
        return entity

    def open_index(self):
        """The index directory as it is on disk now, for the loaded model; E133 when it cannot be
        opened (damaged, half-written by hand, built with another model). It touches no model, so it
        may run outside the worker thread while a batch is linked."""
        from entqa_kit.index.dense import DenseIndex

        current = self.index
        directory = Path(current.directory)
        try:
            return DenseIndex.load(directory, model_fingerprint=current.manifest.model_fingerprint)
        except EntQAError as error:
            raise self._reload_failed(error.message) from None
        except Exception as error:  # e.g. a sqlite or faiss error the index checks did not name
            log.debug("reloading %s failed", directory, exc_info=True)
            raise self._reload_failed(f"{type(error).__name__}: {error}") from None

    def swap_index(self, index):
        """Link, search and look up over ``index`` from now on; returns the index it replaces.

        Call it in the worker thread between batches (``MicroBatcher.run_alone``): a batch already
        running finishes on the old index, the next one reads the new. The new linker shares the
        loaded models; its KB caches start empty, and the per-request variants are dropped.
        """
        previous = self.index
        try:
            linker = with_index(self.linker, index)
        except Exception as error:
            log.debug("building a linker over the reloaded index failed", exc_info=True)
            _close(index)
            detail = error.message if isinstance(error, EntQAError) else f"{type(error).__name__}: {error}"
            raise self._reload_failed(detail) from None
        same_encoder = index.manifest.encoder == previous.manifest.encoder
        self.linker = linker  # one assignment: every reader sees the old linker or the new one
        self._variants.clear()
        if not same_encoder:
            self._search_encoder = None
        return previous

    def _reload_failed(self, detail: str) -> EntQAError:
        index = self.index
        return EntQAError("E133", path=index.directory, detail=detail, kb_size=len(index.kb))


def with_link_settings(linker, **settings: object):
    """A linker that shares ``linker``'s models and index but links with other LinkConfig values.

    Uses ``linker.with_link_settings`` when the linker has it; otherwise builds one with the
    Linker constructor (see :func:`rebuilt`).
    """
    own = getattr(linker, "with_link_settings", None)
    if own is not None:
        return own(**settings)
    return rebuilt(linker, linker.index, **settings)


def with_index(linker, index):
    """A linker that shares ``linker``'s models and link settings but searches and reads ``index``.

    Uses ``linker.with_index`` when the linker has it; otherwise builds one with the Linker
    constructor (see :func:`rebuilt`), so every cache of KB rows (entity wordpieces, the name
    matcher) belongs to the new index.
    """
    own = getattr(linker, "with_index", None)
    if own is not None:
        return own(index)
    return rebuilt(linker, index)


def rebuilt(linker, index, **settings: object):
    """A new Linker over ``index`` with ``linker``'s retriever, reader, passage and reader settings,
    the candidates its joint reader was trained with, and its LinkConfig updated by ``settings``.
    The reader is already quantised, so the copy does not quantise it again."""
    config = linker.config.model_copy(update={**settings, "quantize": "none"})
    trained_slots = getattr(getattr(linker, "reading", None), "trained_slots", None)
    return type(linker)(
        linker.retriever,
        linker.passage_config,
        index,
        linker.reader,
        config,
        linker.reader_config,
        trained_slots,
    )


def _close(index) -> None:
    kb = getattr(index, "kb", None)
    if kb is not None:
        kb.close()


def link_many(linker, documents: Sequence[Document], batch_size: int = 64) -> list[LinkedDocument]:
    """Link documents together: with ``linker.link_documents`` when the linker has it, else one by one."""
    together = getattr(linker, "link_documents", None)
    if together is not None:
        return list(together(documents, batch_size))
    return [linker.link_document(document, batch_size) for document in documents]
