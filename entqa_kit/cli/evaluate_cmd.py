"""``entqa-kit evaluate``: linking F1 (InKB, strong match) or retriever recall on labelled documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import (
    Device,
    JsonOutput,
    OutOfKbOption,
    Quiet,
    check_outputs,
    print_json,
    user_errors,
)


@user_errors
def evaluate_cli(
    data: Annotated[Path, typer.Argument(help="Labelled documents: AIDA tsv, PubTator, or document JSONL.")],
    index: Annotated[
        Path,
        typer.Option("--index", help="Index directory of the KB (with --predictions, a KB file also works)."),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model directory (default: the shipped aida-cpu model); for --stage retriever also any "
            "encoder id/path (zero-shot), or 'minilm': the offline all-MiniLM-L6-v2 base encoder."
        ),
    ] = None,
    stage: Annotated[str, typer.Option(help="linking (F1) or retriever (recall).")] = "linking",
    predictions: Annotated[
        Path | None,
        typer.Option(
            help="Score this predictions JSONL (or silver Document JSONL) instead of linking with --model."
        ),
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Write false positives/negatives with context here.")
    ] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="aida, pubtator or jsonl.")] = None,
    split: Annotated[str | None, typer.Option(help="AIDA split: train, testa or testb.")] = None,
    top_k: Annotated[
        int | None,
        typer.Option(
            "--top-k",
            "-k",
            min=1,
            help="Linking: candidates per passage (default: the model's). Retriever: K of R@K (default 100).",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Linking: (passage, candidate) pairs per reader batch. Retriever: passages per encoder "
            "batch. Default 64.",
        ),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            help="--stage retriever: override the passage topic: none, first_token, first_sentence "
            "(default: the model's)."
        ),
    ] = None,
    out_of_kb: OutOfKbOption = "ignore",
    quiet: Quiet = False,
    device: Device = "cpu",
    json_output: JsonOutput = False,
) -> None:
    """Print InKB micro P/R/F1 (strong match, GERBIL A2KB) or, with --stage retriever, R@K."""
    check_outputs(files={"--errors": errors})
    from entqa_kit.core.device import select_device

    select_device(device)
    from entqa_kit.evaluation.evaluate_run import evaluate

    report = evaluate(
        data,
        index_dir=index,
        stage=stage,
        model_dir=model,
        predictions=predictions,
        errors=errors,
        data_format=data_format,
        split=split,
        top_k=top_k,
        batch_size=batch_size,
        topic=topic,
        quiet=quiet,
        out_of_kb=out_of_kb,
    )
    if json_output:
        print_json(report.as_json())
        return
    if stage == "linking":
        _print_linking(data, split, report, out_of_kb)
        return
    from rich.console import Console
    from rich.table import Table

    from entqa_kit.core.display import literal

    table = Table(title=literal(f"Retriever recall on {data.name}{f' ({split})' if split else ''}"))
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


def _print_linking(data, split, evaluation, out_of_kb: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from entqa_kit.core.display import literal

    scores = evaluation.scores
    recall = evaluation.recall.recall_at if evaluation.recall else {}
    table = Table(title=literal(f"InKB linking on {data.name}{f' ({split})' if split else ''}, strong match"))
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
    counted = "out-of-KB gold left out" + ("; links on it counted wrong" if out_of_kb == "wrong" else "")
    table.add_row("gold / predicted", f"{scores.num_gold:,} / {scores.num_pred:,}", counted)
    Console().print(table)
