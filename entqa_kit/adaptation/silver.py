"""Silver mentions: unlabelled documents in, KB names found by the name matcher out, as Document JSONL.

Gold labels in the input are ignored. The output, ``{"id", "text", "mentions": [{"start", "end",
"entity"}]}`` per line, is training data for the reader (read back with the JSONL document reader)
and, scored with ``entqa-kit evaluate --predictions``, the name-matching baseline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from entqa_kit.core.atomic import write_text_atomic
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document
from entqa_kit.documents import FORMATS, detect_format, load_documents
from entqa_kit.documents.link_inputs import DEFAULT_MAX_CHARS, InputFailure, iter_inputs
from entqa_kit.index.kb_source import open_kb
from entqa_kit.io.read_options import ReadOptions
from entqa_kit.kb.name_matcher import MatcherOptions, MatcherReport, NameMatch, NameMatcher

LINE_FORMATS = ("jsonl", "txt")
"""Formats read document by document, where a bad line or file can be skipped (``skip_bad``)."""


@dataclass(frozen=True)
class SilverOptions:
    """How to read the KB and the documents, and how to match names."""

    matcher: MatcherOptions = field(default_factory=MatcherOptions)
    docs_format: str | None = None
    split: str | None = None
    kb_format: str | None = None
    skip_bad: bool = False
    max_chars: int = DEFAULT_MAX_CHARS
    abbreviations: bool = False
    """Short forms defined after a matched long form are silver mentions too (``with_abbreviations``)."""


@dataclass(frozen=True)
class SilverResult:
    """What ``make_silver`` wrote and what the filters dropped."""

    out: Path
    documents: int
    mentions: int
    entities: int
    report: MatcherReport
    frequent: dict[str, float]
    skipped: list[EntQAError]
    sidecar: Path | None
    kb_source: str
    seconds: float
    kb_skipped_rows: int = 0
    abbreviation_mentions: int = 0
    """Of ``mentions``, the uses of short forms defined after a matched long form."""

    def as_json(self) -> dict:
        return {
            "out": str(self.out),
            "documents": self.documents,
            "mentions": self.mentions,
            "entities": self.entities,
            "names": self.report.as_json(),
            "frequent": self.frequent,
            "skipped": len(self.skipped),
            "skipped_sidecar": str(self.sidecar) if self.sidecar else None,
            "kb_source": self.kb_source,
            "kb_skipped_rows": self.kb_skipped_rows,
            "abbreviation_mentions": self.abbreviation_mentions,
            "seconds": round(self.seconds, 2),
        }


def skipped_sidecar(out: Path) -> Path:
    """Where the skipped inputs of ``out`` are listed: ``silver.jsonl`` -> ``silver.skipped.jsonl``."""
    return out.with_name(out.stem + ".skipped.jsonl")


def read_unlabelled(docs_path: Path, options: SilverOptions, skipped: list[EntQAError]) -> Iterator[Document]:
    """Documents without their gold mentions. JSONL and text inputs go line by line (a bad one is
    raised, or appended to ``skipped`` with ``skip_bad``); PubTator and AIDA files are read whole."""
    stdin = str(docs_path) == "-"
    fmt = options.docs_format or ("jsonl" if stdin else detect_format(docs_path))
    if fmt not in FORMATS:
        raise EntQAError("E054", path=docs_path, fmt=fmt, known=", ".join(FORMATS))
    if fmt in LINE_FORMATS:
        if not stdin and not docs_path.exists():
            raise EntQAError("E001", path=docs_path)
        for item in iter_inputs([str(docs_path)], options.max_chars):
            if isinstance(item, InputFailure):
                if not options.skip_bad:
                    raise item.error
                skipped.append(item.error)
                continue
            yield item
        return
    for document in load_documents(docs_path, None, fmt, options.split).documents:
        yield Document(id=document.id, text=document.text)


def make_silver(
    kb_or_index_dir: Path,
    docs_path: Path,
    out: Path,
    options: SilverOptions | None = None,
    quiet: bool = False,
) -> SilverResult:
    """Match the KB's names in every document and write the silver Document JSONL to ``out``."""
    from entqa_kit.core.progress import progress_bar

    started = time.perf_counter()
    options = options or SilverOptions()
    read_options = ReadOptions(skip_bad=options.skip_bad)
    with open_kb(kb_or_index_dir, options.kb_format, read_options) as opened:
        matcher = NameMatcher.from_kb(opened.kb, options.matcher)
        source, kb_skipped = opened.source, opened.skipped_rows
    if len(matcher) == 0:
        dropped = ", ".join(f"{k} {v}" for k, v in matcher.report.dropped.items() if v)
        raise EntQAError("E112", path=kb_or_index_dir, detail=dropped or "the KB has no names")
    skipped: list[EntQAError] = []
    documents = list(read_unlabelled(docs_path, options, skipped))
    sidecar = skipped_sidecar(out) if skipped else None
    if sidecar is not None:
        lines = (json.dumps({"line": e.line, "code": e.code, "message": e.message}) for e in skipped)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(sidecar, "".join(line + "\n" for line in lines))
    if not documents:
        if skipped:
            raise EntQAError("E113", path=docs_path, skipped=len(skipped), sidecar=sidecar)
        raise EntQAError("E055", path=docs_path, detail="")
    with progress_bar("Matching names", len(documents), quiet) as advance:
        corpus = matcher.match_corpus([d.text for d in documents], on_text=advance)
    per_document = corpus.matches
    if options.abbreviations:
        from entqa_kit.documents.silver_abbreviations import with_abbreviations

        per_document = [with_abbreviations(d.text, m) for d, m in zip(documents, per_document)]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, "".join(_line(d, m) for d, m in zip(documents, per_document)))
    found = [m for matches in per_document for m in matches]
    from_names = sum(len(m) for m in corpus.matches)
    return SilverResult(
        out=out,
        documents=len(documents),
        mentions=len(found),
        entities=len({m.entity_id for m in found}),
        report=matcher.report,
        frequent=corpus.frequent,
        skipped=skipped,
        sidecar=sidecar,
        kb_source=source,
        seconds=time.perf_counter() - started,
        kb_skipped_rows=kb_skipped,
        abbreviation_mentions=len(found) - from_names,
    )


def _line(document: Document, matches: list[NameMatch]) -> str:
    mentions = [{"start": m.start, "end": m.end, "entity": m.entity_id} for m in matches]
    record = {"id": document.id, "text": document.text, "mentions": mentions}
    return json.dumps(record, ensure_ascii=False) + "\n"
