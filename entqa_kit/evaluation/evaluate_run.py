"""`entqa-kit evaluate` as a library call: linking F1 or retriever recall; refuses what cannot apply."""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.evaluation.linking import LinkingEvaluation, evaluate_linking
from entqa_kit.evaluation.recall import RecallReport

STAGES = ("linking", "retriever")
RETRIEVER_TOP_K = 100
RETRIEVER_BATCH_SIZE = 64


def _refuse(given: dict[str, object], context: str, remedy: str) -> None:
    names = [name for name, value in given.items() if value is not None]
    if names:
        raise EntQAError("E100", options=", ".join(names), context=context, remedy=remedy)


def evaluate(
    data: str | Path,
    *,
    index_dir: str | Path,
    stage: str = "linking",
    model_dir: str | Path | None = None,
    predictions: str | Path | None = None,
    errors: str | Path | None = None,
    data_format: str | None = None,
    split: str | None = None,
    top_k: int | None = None,
    batch_size: int | None = None,
    topic: str | None = None,
    quiet: bool = False,
    out_of_kb: str = "ignore",
) -> LinkingEvaluation | RecallReport:
    """Linking scores (``stage="linking"``) or the retriever's R@1/10/K/100 (``stage="retriever"``).

    Linking: ``top_k`` candidates per passage (None: the model's), ``batch_size`` reader pairs per
    batch; with ``predictions`` nothing is linked, so they are refused (E100), as is ``topic`` (the
    reader reads the topic it was trained with). Retriever: K of R@K (default 100), passages per
    batch (default 64) and the passage ``topic`` override; ``predictions`` and ``errors`` are refused.
    ``model_dir`` defaults to the shipped model; for the retriever any encoder id or path works.
    ``out_of_kb`` (linking): ``ignore`` (GERBIL InKB) or ``wrong`` (a link on a gold mention whose
    entity is not in the KB is a false positive).
    """
    from entqa_kit.models.default import model_or_default

    data, index_dir = Path(data), Path(index_dir)
    if stage not in STAGES:
        raise EntQAError("E041", what="--stage", expected="'linking' or 'retriever'", value=stage)
    if stage == "retriever":
        _refuse(
            {"--predictions": predictions, "--errors": errors, "--out-of-kb": out_of_kb != "ignore" or None},
            "with --stage retriever (it measures recall; it does not score linked spans)",
            "drop them, or use --stage linking",
        )
        from entqa_kit.evaluation.retriever import evaluate_retriever

        return evaluate_retriever(
            data,
            index_dir,
            model_or_default(model_dir),
            data_format,
            split,
            top_k or RETRIEVER_TOP_K,
            batch_size or RETRIEVER_BATCH_SIZE,
            quiet,
            topic,
        )
    _refuse(
        {"--topic": topic},
        "with --stage linking (the reader reads passages with the topic it was trained with)",
        "drop it, or measure retriever recall with --stage retriever --topic",
    )
    return evaluate_linking(
        data,
        index_dir,
        model_or_default(model_dir) if predictions is None else None,
        Path(predictions) if predictions else None,
        data_format,
        split,
        Path(errors) if errors else None,
        quiet,
        top_k=top_k,
        batch_size=batch_size,
        out_of_kb=out_of_kb,
    )
