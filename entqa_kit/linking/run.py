"""Link a set of inputs (files, directories, stdin) into predictions JSONL and an HTML page.

``link_inputs(["docs/"], index_dir="idx", out="pred.jsonl")`` is what ``entqa-kit link`` runs:
bad documents become failures (counted, reported through ``on_failure``), not crashes, and
predictions are written as they come, so a crash loses at most one document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, LinkedDocument
from entqa_kit.documents.link_inputs import DEFAULT_MAX_CHARS, InputFailure, check_inputs, iter_inputs
from entqa_kit.io.predictions import PredictionWriter

DocumentCallback = Callable[[Document, LinkedDocument], None]
FailureCallback = Callable[[EntQAError], None]


@dataclass
class LinkRunResult:
    """What a run linked: counts, the failed inputs' errors, and the files it wrote."""

    documents: int = 0
    mentions: int = 0
    failures: list[EntQAError] = field(default_factory=list)
    out: Path | None = None
    html: Path | None = None
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """Inputs seen: linked documents plus failures."""
        return self.documents + len(self.failures)

    def as_json(self) -> dict:
        return {
            "documents": self.documents,
            "mentions": self.mentions,
            "failed": len(self.failures),
            "failures": [f.message for f in self.failures],
            "out": str(self.out) if self.out else None,
            "html": str(self.html) if self.html else None,
            "seconds": round(self.seconds, 2),
        }


def link_inputs(
    inputs: Sequence[str | Path],
    *,
    index_dir: str | Path,
    model_dir: str | Path | None = None,
    out: str | Path | None = None,
    html: str | Path | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    batch_size: int = 64,
    quiet: bool = False,
    on_document: DocumentCallback | None = None,
    on_failure: FailureCallback | None = None,
    **link_overrides: object,
) -> LinkRunResult:
    """Link every document of ``inputs`` (``.txt``/``.jsonl`` files, directories, ``-`` for stdin).

    ``model_dir`` defaults to the shipped model; ``link_overrides`` (``threshold``, ``top_k``,
    ``allow_overlaps``, ``test_stride``, ...; None keeps the model's value) go to the linker.
    ``on_document`` sees each linked document, ``on_failure`` each bad input as it comes.
    """
    from entqa_kit.core.progress import progress_bar
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.default import model_or_default

    started = time.perf_counter()
    check_inputs([str(i) for i in inputs])
    linker = Linker.from_pretrained(
        model_dir=model_or_default(model_dir), index_dir=Path(index_dir), **link_overrides
    )
    result = LinkRunResult(out=Path(out) if out else None, html=Path(html) if html else None)
    pages: list[tuple[Document, LinkedDocument]] = []
    with PredictionWriter(result.out) as writer, progress_bar("Linking documents", None, quiet) as advance:
        for item in iter_inputs([str(i) for i in inputs], max_chars):
            if isinstance(item, InputFailure):
                result.failures.append(item.error)
                if on_failure is not None:
                    on_failure(item.error)
                advance(1)
                continue
            linked = linker.link_document(item, batch_size)
            writer.write(linked)
            result.documents += 1
            result.mentions += len(linked.mentions)
            if result.html is not None:
                pages.append((item, linked))
            if on_document is not None:
                on_document(item, linked)
            advance(1)
    if result.html is not None:
        _write_page(result.html, pages, linker, f"index: {index_dir}")
    result.seconds = time.perf_counter() - started
    return result


def _write_page(path: Path, pages: list[tuple[Document, LinkedDocument]], linker, subtitle: str) -> None:
    from entqa_kit.io.html_report import render_html, write_html

    entity_ids = {m.entity for _, linked in pages for m in linked.mentions}
    entities = {e: linker.index.kb.by_id(e) for e in entity_ids}
    documents, results = [d for d, _ in pages], [r for _, r in pages]
    page = render_html(
        documents,
        results,
        entities,
        subtitle=subtitle,
        threshold=linker.config.threshold,
        reader_kind=linker.reader_config.kind,
    )
    write_html(path, page)
