"""``entqa-kit train``: train from a recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, check_outputs, print_json, user_errors


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
    check_outputs(dirs={"--out": out})
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.training.run import train

    result = train(recipe, out, stage=stage, resume=resume, overrides=overrides or (), quiet=quiet)
    if json_output:
        print_json(result.as_json())
    if quiet:
        return
    if result.retriever is not None:
        retriever = result.retriever
        stderr_console.print(
            f"Retriever trained in {retriever.seconds / 60:.1f} min; best epoch {retriever.best_epoch}."
        )
        if retriever.reindexed:
            stderr_console.print(
                f"The entity tower changed, so the KB was re-indexed into {literal(retriever.index_dir)}."
            )
    if result.reader is not None:
        reader = result.reader
        stderr_console.print(
            f"Reader trained in {reader.seconds / 60:.1f} min (final loss {reader.final_loss:.3f})."
        )
