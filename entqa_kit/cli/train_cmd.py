"""``entqa-kit train``: train from a recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import Device, JsonOutput, Quiet, check_outputs, print_json, user_errors


@user_errors
def train_cli(
    recipe: Annotated[Path, typer.Option("--recipe", "-r", help="Recipe TOML, e.g. recipes/aida-cpu.toml.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    stage: Annotated[
        str,
        typer.Option(
            help="all (retriever, reader, names), retriever, reader, or names: give a trained model the "
            "recipe's [link] name settings and the names learnt from its labelled documents "
            "(link.labelled_names), without retraining."
        ),
    ] = "all",
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Override a recipe key: a.b=value.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the last epoch checkpoint in --out.")] = False,
    nproc: Annotated[
        int,
        typer.Option(
            min=1, help="Train in N processes on this machine (torchrun; gloo on CPU, nccl on CUDA)."
        ),
    ] = 1,
    device: Device = "cpu",
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Train RECIPE into --out: the retriever (best epoch by dev R@K), then the reader on its candidates."""
    check_outputs(dirs={"--out": out})
    from entqa_kit.core.device import select_device

    select_device(device)  # E140 before any process starts
    if nproc > 1:
        from entqa_kit.distributed.torchrun import launch

        arguments = [
            "train",
            "--recipe",
            str(recipe),
            "--out",
            str(out),
            "--stage",
            stage,
            "--device",
            device,
        ]
        arguments += [a for o in overrides or () for a in ("--set", o)]
        arguments += ["--resume"] * resume + ["--quiet"] * quiet + ["--json"] * json_output
        launch(nproc, arguments)
        return
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.training import distributed
    from entqa_kit.training.run import train

    distributed.init_from_env(device)  # under torchrun: join the process group
    try:
        quiet = quiet or not distributed.is_main()
        result = train(recipe, out, stage=stage, resume=resume, overrides=overrides or (), quiet=quiet)
    finally:
        main = distributed.is_main()
        distributed.shutdown()
    if not main:  # rank 0 alone reports
        return
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
    if result.names is not None:
        names = result.names
        stderr_console.print(
            f"Learnt {len(names.aliases):,} spellings from {names.documents:,} labelled documents and "
            f"{len(names.excluded):,} names they link mostly wrongly "
            f"({literal(str(Path(out) / 'labelled_names.json'))}); calibrate again to choose γ with them."
        )
