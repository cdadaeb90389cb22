"""End-to-end linking evaluation: link (or read predictions), score, write an error file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from kb_adapters.base import BadRowLog
from kb_adapters.jsonl_lines import iter_json_objects

from .atomic import write_text_atomic
from .datasets import load_documents
from .datasets.base import DocumentSet
from .errors import EntQAError
from .index import DenseIndex
from .records import LinkedDocument
from .scoring import LinkingError, LinkingScores, score_linking


def read_predictions(path: Path) -> list[LinkedDocument]:
    """Predictions JSONL; a malformed line is a coded error naming the file and line."""
    predictions = []
    for line, obj in iter_json_objects(path, BadRowLog(False)):
        try:
            predictions.append(LinkedDocument.model_validate(obj))
        except ValueError as exc:
            raise EntQAError(
                "E010",
                path=path,
                line=line,
                field="mentions",
                expected="predictions JSONL",
                kind=str(exc).splitlines()[0],
            ) from None
    return predictions


def link_all(linker, documents, quiet: bool) -> list[LinkedDocument]:
    """Link every document with a progress bar."""
    from .progress import progress_bar

    predictions = []
    with progress_bar("Linking", len(documents), quiet) as advance:
        for document in documents:
            predictions.append(linker.link_document(document))
            advance(1)
    return predictions


def labelled_predictions(
    data: Path,
    index_dir: Path,
    model: str | None,
    predictions_path: Path | None,
    data_format: str | None,
    split: str | None,
    quiet: bool,
    threshold: float | None = None,
) -> tuple[DocumentSet, list[LinkedDocument]]:
    """The labelled documents and their predictions: read from ``predictions_path``, or linked now."""
    if predictions_path is not None:
        kb = DenseIndex.load(index_dir).kb
        documents = load_documents(data, kb, data_format, split)
        return documents, read_predictions(predictions_path)
    from .linker import Linker

    linker = Linker.from_pretrained(model, index_dir, threshold=threshold)
    documents = load_documents(data, linker.index.kb, data_format, split)
    return documents, link_all(linker, documents.documents, quiet)


def evaluate_linking(
    data: Path,
    index_dir: Path,
    model: str | None = None,
    predictions_path: Path | None = None,
    data_format: str | None = None,
    split: str | None = None,
    errors_path: Path | None = None,
    quiet: bool = False,
) -> LinkingScores:
    from .progress import stderr_console

    documents, predictions = labelled_predictions(
        data, index_dir, model, predictions_path, data_format, split, quiet
    )
    if not quiet:
        stderr_console.print(f"{data.name}: {documents.summary()}")
    errors: list[LinkingError] = []
    scores = score_linking(documents.documents, predictions, errors)
    if errors_path is not None:
        lines = (json.dumps(dataclasses.asdict(e), ensure_ascii=False) for e in errors)
        write_text_atomic(errors_path, "".join(line + "\n" for line in lines))
    return scores
