"""Checks of a predictions file against the labelled documents it is scored on.

Predictions are matched to documents by id. None matching is an error (E076: they were made for
other documents, or read with another --format or --split); a partial match, repeated ids and
mention texts that differ from the document text are counted and reported. A predicted span
outside its document's text (or negative, or empty) is an error naming the file and line (E077).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, LinkedDocument
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.jsonl import iter_json_objects


@dataclass(frozen=True)
class PredictionMatch:
    """How a predictions file lines up with the documents."""

    predicted: int  # predicted documents (lines)
    unmatched: int  # predicted documents whose id is no document's id
    duplicates: int  # lines whose id appeared on an earlier line (the last one is scored)
    unpredicted: int  # documents with no prediction (all their gold mentions are missed)
    text_mismatches: int  # predicted mentions whose text differs from the document's text there
    examples: tuple[str, ...] = ()  # a few unmatched ids

    @property
    def problems(self) -> list[str]:
        found = []
        if self.unmatched:
            shown = ", ".join(repr(i) for i in self.examples)
            found.append(
                f"{self.unmatched:,} of {self.predicted:,} predicted documents match no document "
                f"(ids such as {shown}) and are not scored"
            )
        if self.duplicates:
            repeat = _count(self.duplicates, "predicted document repeats", "predicted documents repeat")
            found.append(f"{repeat} an earlier id (the last one is scored)")
        if self.unpredicted:
            have = _count(self.unpredicted, "document has", "documents have")
            found.append(f"{have} no prediction (their gold mentions count as missed)")
        if self.text_mismatches:
            have = _count(self.text_mismatches, "predicted mention has", "predicted mentions have")
            found.append(
                f"{have} a text that differs from the document's at their offsets "
                "(were the predictions made on other text?)"
            )
        return found


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


def _prediction_lines(path: Path, count: int) -> list[int]:
    """The line number of each prediction, in file order (as :func:`read_predictions` reads them)."""
    lines = [line for line, _ in iter_json_objects(path, BadRowLog(False), "predictions")]
    return lines if len(lines) == count else list(range(1, count + 1))


def check_predictions(
    path: Path, data: Path, documents: Sequence[Document], predictions: Sequence[LinkedDocument]
) -> PredictionMatch:
    """Match ``predictions`` (read from ``path``) to ``documents`` (read from ``data``); E076 when
    none matches, E077 for a span outside its document's text."""
    by_id = {d.id: d for d in documents}
    lines = _prediction_lines(path, len(predictions))
    mismatches = 0
    for line, prediction in zip(lines, predictions):
        document = by_id.get(prediction.id)
        length = len(document.text) if document is not None else None
        for mention in prediction.mentions:
            outside = mention.start < 0 or mention.start >= mention.end
            if outside or (length is not None and mention.end > length):
                raise EntQAError(
                    "E077",
                    path=path,
                    line=line,
                    start=mention.start,
                    end=mention.end,
                    doc_id=prediction.id,
                    length=length if length is not None else "unknown",
                )
            if (
                document is not None
                and mention.text
                and document.text[mention.start : mention.end] != mention.text
            ):
                mismatches += 1
    counts = Counter(p.id for p in predictions)
    unmatched = [i for i in counts if i not in by_id]
    if predictions and len(unmatched) == len(counts):
        examples = ", ".join(repr(i) for i in unmatched[:3])
        raise EntQAError("E076", path=path, count=len(predictions), data=data, examples=examples)
    return PredictionMatch(
        predicted=len(predictions),
        unmatched=sum(counts[i] for i in unmatched),
        duplicates=sum(n - 1 for n in counts.values()),
        unpredicted=sum(1 for d in by_id if d not in counts),
        text_mismatches=mismatches,
        examples=tuple(unmatched[:3]),
    )


def report_match(match: PredictionMatch, path: Path, quiet: bool) -> None:
    """Print the match's problems on stderr as warnings (nothing when quiet or all is well)."""
    if quiet or not match.problems:
        return
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console

    for problem in match.problems:
        stderr_console.print(f"[yellow]warning:[/yellow] {literal(path)}: {literal(problem)}")
