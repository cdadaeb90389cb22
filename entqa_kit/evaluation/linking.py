"""End-to-end linking evaluation: link (or read predictions), score, write an error file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from entqa_kit.core.atomic import write_text_atomic
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import LinkedDocument, Passage
from entqa_kit.documents import document_format, load_labelled_documents
from entqa_kit.documents.base import DocumentSet
from entqa_kit.evaluation.prediction_check import check_predictions, report_match
from entqa_kit.evaluation.recall import RecallReport, retrieval_recall
from entqa_kit.evaluation.scoring import LinkingError, LinkingScores, OutOfKb, check_out_of_kb, score_linking
from entqa_kit.index.dense import MANIFEST
from entqa_kit.index.kb_source import open_kb
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.jsonl import iter_json_objects


def read_predictions(path: Path) -> list[LinkedDocument]:
    """Predictions JSONL; a malformed line is a coded error naming the file and line. A mention needs
    only ``start``, ``end`` and ``entity`` (``text``, ``title`` and ``score`` default to "", "" and 1),
    so silver Document JSONL (``entqa-kit silver``) scores as predictions."""
    predictions = []
    for line, obj in iter_json_objects(path, BadRowLog(False), "predictions"):
        try:
            predictions.append(LinkedDocument.model_validate(_with_defaults(obj)))
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


def _with_defaults(obj: object) -> object:
    mentions = obj.get("mentions") if isinstance(obj, dict) else None
    if not isinstance(mentions, list):
        return obj
    filled = [{"text": "", "title": "", "score": 1.0, **m} if isinstance(m, dict) else m for m in mentions]
    return {**obj, "mentions": filled}


@dataclass(frozen=True)
class LinkingRun:
    """Labelled documents, their predictions and, when they were linked here, the linker with the
    passages it retrieved for and their query vectors."""

    documents: DocumentSet
    predictions: list[LinkedDocument]
    linker: object | None = None  # entqa_kit.linking.linker.Linker
    passages: list[Passage] = field(default_factory=list)
    passage_vectors: list[np.ndarray] = field(default_factory=list)


def link_all(linker, documents: DocumentSet, quiet: bool, batch_size: int = 64) -> LinkingRun:
    """Link every document with a progress bar, keeping what the retriever saw."""
    from entqa_kit.core.progress import progress_bar

    run = LinkingRun(documents, [], linker)

    def keep(passages: list[Passage], vectors: np.ndarray) -> None:
        run.passages.extend(passages)
        run.passage_vectors.append(vectors)

    with progress_bar("Linking", len(documents.documents), quiet) as advance:
        for document in documents.documents:
            run.predictions.append(linker.link_document(document, batch_size, on_retrieval=keep))
            advance(1)
    return run


def labelled_predictions(
    data: Path,
    index_dir: Path,
    model: str | None,
    predictions_path: Path | None,
    data_format: str | None,
    split: str | None,
    quiet: bool,
    threshold: float | None = None,
    top_k: int | None = None,
    batch_size: int | None = None,
    link_overrides: dict[str, object] | None = None,
) -> LinkingRun:
    """The labelled documents and their predictions: read from ``predictions_path`` (``index_dir`` may
    then be a KB file too: only its entity store is needed), or linked now with ``top_k`` candidates
    per passage (None: the model's) and ``batch_size`` pairs per reader batch."""
    if predictions_path is not None:
        given = [name for name, value in (("--top-k", top_k), ("--batch-size", batch_size)) if value]
        if given:
            raise EntQAError(
                "E100",
                options=", ".join(given),
                context="with --predictions (those documents are already linked)",
                remedy="drop them, or link here with --model instead of --predictions",
            )
        with open_kb(index_dir) as opened:
            documents = load_labelled_documents(data, opened.kb, data_format, split)
        predictions = read_predictions(predictions_path)
        match = check_predictions(predictions_path, data, documents.documents, predictions)
        report_match(match, predictions_path, quiet)
        return LinkingRun(documents, predictions)
    from entqa_kit.linking.linker import Linker

    data_format = data_format or document_format(data)
    documents = None
    if (Path(index_dir) / MANIFEST).is_file():  # bad or unlabelled documents fail before the model loads
        with open_kb(Path(index_dir)) as opened:
            documents = load_labelled_documents(data, opened.kb, data_format, split)
    linker = Linker.from_pretrained(
        model_dir=model, index_dir=index_dir, threshold=threshold, top_k=top_k, **(link_overrides or {})
    )
    if documents is None:
        documents = load_labelled_documents(data, linker.index.kb, data_format, split)
    return link_all(linker, documents, quiet, batch_size or 64)


def linker_recall(run: LinkingRun) -> RecallReport:
    """R@1/10/K/100 of the passages the linker retrieved for (K: the candidates it read per passage),
    from the query vectors it already encoded."""
    linker = run.linker
    vectors = np.concatenate(run.passage_vectors) if run.passage_vectors else np.zeros((0, 1), np.float32)
    ks = (1, 10, linker.config.test_k, 100)
    return retrieval_recall(run.passages, vectors, linker.index.search, linker.index.kb, ks)


@dataclass(frozen=True)
class LinkingEvaluation:
    scores: LinkingScores
    recall: RecallReport | None

    def as_json(self) -> dict:
        result = self.scores.as_json()
        if self.recall is not None:
            result["recall_at"] = self.recall.recall_at
        return result


def evaluate_linking(
    data: Path,
    index_dir: Path,
    model: str | None = None,
    predictions_path: Path | None = None,
    data_format: str | None = None,
    split: str | None = None,
    errors_path: Path | None = None,
    quiet: bool = False,
    top_k: int | None = None,
    batch_size: int | None = None,
    out_of_kb: OutOfKb = "ignore",
) -> LinkingEvaluation:
    """Scores (and, when linking here, the retriever's recall); writes the error file if asked.

    ``top_k`` (candidates per passage; None: the model's) and ``batch_size`` apply when linking here;
    with ``predictions_path`` they are refused (E100). ``out_of_kb``: ``ignore`` (GERBIL InKB) or
    ``wrong`` (links on out-of-KB gold mentions are false positives)."""
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console

    check_out_of_kb(out_of_kb)
    run = labelled_predictions(
        data,
        index_dir,
        model,
        predictions_path,
        data_format,
        split,
        quiet,
        top_k=top_k,
        batch_size=batch_size,
    )
    if not quiet:
        stderr_console.print(f"{literal(data.name)}: {run.documents.summary()}")
    errors: list[LinkingError] = []
    scores = score_linking(run.documents.documents, run.predictions, errors, out_of_kb)
    if errors_path is not None:
        lines = (json.dumps(dataclasses.asdict(e), ensure_ascii=False) for e in errors)
        write_text_atomic(errors_path, "".join(line + "\n" for line in lines))
    recall = linker_recall(run) if run.linker is not None else None
    return LinkingEvaluation(scores, recall)
