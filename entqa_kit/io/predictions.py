"""Predictions JSONL output, written as it goes, and a readable per-document summary."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType

from entqa_kit.core.records import Document, LinkedDocument


def prediction_line(linked: LinkedDocument) -> str:
    """One document's predictions as the JSON line (with its newline) every writer writes."""
    return json.dumps(linked.model_dump(), ensure_ascii=False) + "\n"


class PredictionWriter:
    """Appends one JSON line per document to ``OUT.partial`` (flushed each time) and renames it
    to ``OUT`` when the run ends normally. After a crash, ``OUT.partial`` holds every finished document."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.partial = out.with_name(out.name + ".partial") if out else None
        self._handle = None

    def __enter__(self) -> PredictionWriter:
        if self.partial is not None:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.partial.open("w", encoding="utf-8")
        return self

    def write(self, linked: LinkedDocument) -> None:
        if self._handle is not None:
            self._handle.write(prediction_line(linked))
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ):
        if self._handle is not None:
            self._handle.close()
            if kind is None:
                self.partial.replace(self.out)
        return False


def print_document_summary(document: Document, linked: LinkedDocument) -> None:
    from rich.console import Console
    from rich.table import Table

    from entqa_kit.core.display import literal

    table = Table(title=f"{literal(document.id)}: {len(linked.mentions)} mentions", title_justify="left")
    for column, justify in (("span", "right"), ("mention", "left"), ("entity", "left"), ("score", "right")):
        table.add_column(column, justify=justify)
    for mention in linked.mentions:
        table.add_row(
            f"{mention.start}-{mention.end}",
            literal(mention.text),
            literal(f"{mention.title} ({mention.entity})"),
            f"{mention.score:.3f}",
        )
    Console().print(table)
