"""``entqa-kit train``: train from a recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, print_json, user_errors


@user_errors
def train_cli(
    recipe: Annotated[Path, typer.Option("--recipe", "-r", help="Recipe TOML, e.g. recipes/aida-cpu.toml.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    stage: Annotated[str, typer.Option(help="all (retriever, then reader), retriever, or reader.")] = "all",
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Override a recipe key: a.b=value.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the last epoch checkpoint in --out.")] = False,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Train RECIPE into --out: the retriever (best epoch by dev R@K), then the reader on its candidates."""
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.training.reader_stage import train_reader
    from entqa_kit.training.recipes import load_recipe
    from entqa_kit.training.retriever_stage import train_retriever

    if stage not in ("retriever", "reader", "all"):
        raise EntQAError("E041", what="--stage", expected="'retriever', 'reader' or 'all'", value=stage)
    loaded = load_recipe(recipe, overrides)
    summary: dict = {"model": str(out), "stage": stage}
    if stage in ("retriever", "all"):
        result = train_retriever(loaded, out, resume=resume, quiet=quiet)
        summary |= {
            "best_epoch": result.best_epoch,
            "retriever_seconds": round(result.seconds, 1),
            "index": str(result.index_dir),
            "reindexed": result.reindexed,
            "dev": result.dev_recall.as_json() if result.dev_recall else None,
        }
        if not quiet:
            stderr_console.print(
                f"Retriever trained in {result.seconds / 60:.1f} min; best epoch {result.best_epoch}."
            )
            if result.reindexed:
                stderr_console.print(
                    f"The entity tower changed, so the KB was re-indexed into {result.index_dir}."
                )
    if stage in ("reader", "all"):
        reader = train_reader(loaded, out, resume=resume, quiet=quiet)
        summary |= {"reader_seconds": round(reader.seconds, 1), "reader_loss": round(reader.final_loss, 4)}
        if not quiet:
            stderr_console.print(
                f"Reader trained in {reader.seconds / 60:.1f} min (final loss {reader.final_loss:.3f})."
            )
    if json_output:
        print_json(summary)
