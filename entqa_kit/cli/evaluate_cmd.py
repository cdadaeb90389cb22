"""``entqa-kit evaluate``: measure the retriever (recall) on labelled documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import JsonOutput, Quiet, print_json, user_errors


@user_errors
def evaluate_cli(
    data: Annotated[Path, typer.Argument(help="Labelled documents: AIDA tsv, PubTator, or document JSONL.")],
    index: Annotated[Path, typer.Option("--index", help="Index directory of the KB.")],
    model: Annotated[
        str, typer.Option(help="Model directory, or any encoder id/path (zero-shot).")
    ] = "minilm",
    stage: Annotated[str, typer.Option(help="retriever (linking F1 comes with the reader).")] = "retriever",
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
    """Print passage-level and document-level R@1, R@10, R@K and R@100 of the retriever."""
    from ..errors import EntQAError
    from ..evaluate_retriever import evaluate_retriever

    if stage != "retriever":
        raise EntQAError("E041", what="--stage", expected="'retriever'", value=stage)
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
