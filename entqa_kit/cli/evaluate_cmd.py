"""``entqa-kit evaluate``: linking F1 (InKB, strong match) or retriever recall on labelled documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, print_json, user_errors


@user_errors
def evaluate_cli(
    data: Annotated[Path, typer.Argument(help="Labelled documents: AIDA tsv, PubTator, or document JSONL.")],
    index: Annotated[Path, typer.Option("--index", help="Index directory of the KB.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model directory (default: the shipped aida-cpu model); for --stage retriever also any "
            "encoder id/path (zero-shot)."
        ),
    ] = None,
    stage: Annotated[str, typer.Option(help="linking (F1) or retriever (recall).")] = "linking",
    predictions: Annotated[
        Path | None, typer.Option(help="Score this predictions JSONL instead of linking with --model.")
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Write false positives/negatives with context here.")
    ] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="aida, pubtator or jsonl.")] = None,
    split: Annotated[str | None, typer.Option(help="AIDA split: train, testa or testb.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="K of R@K (besides 1, 10, 100).")] = 100,
    batch_size: Annotated[int, typer.Option(help="Passages per encoder batch.")] = 64,
    topic: Annotated[
        str | None,
        typer.Option(
            help="Override the passage topic: none, first_token, first_sentence (default: the model's)."
        ),
    ] = None,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Print InKB micro P/R/F1 (strong match, GERBIL A2KB) or, with --stage retriever, R@K."""
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.evaluation.retriever import evaluate_retriever
    from entqa_kit.models.default import model_or_default

    model = model_or_default(model) if predictions is None else model

    if stage == "linking":
        _linking(data, index, model, predictions, data_format, split, errors, quiet, json_output)
        return
    if stage != "retriever":
        raise EntQAError("E041", what="--stage", expected="'linking' or 'retriever'", value=stage)
    report = evaluate_retriever(data, index, model, data_format, split, top_k, batch_size, quiet, topic)
    if json_output:
        print_json(report.as_json())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Retriever recall on {data.name}{f' ({split})' if split else ''}")
    table.add_column("level")
    for k in report.recall_at:
        table.add_column(f"R@{k}", justify="right")
    table.add_column("count", justify="right")
    table.add_row(
        "passage", *(f"{v:.2f}" for v in report.recall_at.values()), f"{report.num_passages:,} passages"
    )
    table.add_row(
        "document", *(f"{v:.2f}" for v in report.doc_recall_at.values()), f"{report.num_docs:,} docs"
    )
    Console().print(table)


def _linking(data, index, model, predictions, data_format, split, errors, quiet, json_output) -> None:
    from entqa_kit.evaluation.linking import evaluate_linking

    evaluation = evaluate_linking(data, index, model, predictions, data_format, split, errors, quiet)
    if json_output:
        print_json(evaluation.as_json())
        return
    from rich.console import Console
    from rich.table import Table

    scores = evaluation.scores
    recall = evaluation.recall.recall_at if evaluation.recall else {}
    table = Table(title=f"InKB linking on {data.name}{f' ({split})' if split else ''}, strong match")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("what it counts", style="dim")
    rows = [
        ("precision", scores.precision, "right span and entity, of predicted"),
        ("recall", scores.recall, "found, of in-KB gold mentions"),
        ("F1", scores.f1, "micro, strong match"),
        ("MD F1", scores.md_f1, "spans only, entity ignored"),
        ("ED accuracy", scores.ed_accuracy, "right entity, of right spans"),
        ("macro F1", scores.macro_f1, "mean of per-document F1"),
        *((f"R@{k}", v, "gold in the retriever's top K") for k, v in recall.items()),
    ]
    for name, value, meaning in rows:
        table.add_row(name, f"{value:.2f}", meaning, style="bold" if name == "F1" else None)
    table.add_row("documents", f"{scores.num_docs:,}", "")
    table.add_row("gold / predicted", f"{scores.num_gold:,} / {scores.num_pred:,}", "out-of-KB gold left out")
    Console().print(table)
