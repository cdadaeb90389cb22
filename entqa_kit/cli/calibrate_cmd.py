"""``entqa-kit calibrate``: choose the span threshold γ on labelled data and save it in the model."""

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
def calibrate_cli(
    data: Annotated[Path, typer.Argument(help="Labelled dev documents: AIDA tsv, PubTator, or JSONL.")],
    index: Annotated[Path, typer.Option("--index", help="Index directory of the KB.")],
    model: Annotated[
        Path | None,
        typer.Option(
            help="Trained model directory (default: the shipped aida-cpu model); its γ is rewritten "
            "unless --no-write."
        ),
    ] = None,
    predictions: Annotated[
        Path | None,
        typer.Option(help="Sweep this predictions JSONL (linked with --threshold at most --floor)."),
    ] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="aida, pubtator or jsonl.")] = None,
    split: Annotated[str | None, typer.Option(help="AIDA split, e.g. testa (the dev set).")] = None,
    floor: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Link once at this γ, the lowest swept.")
    ] = 0.001,
    plot: Annotated[
        Path | None,
        typer.Option(help="PNG of P/R/F1 against γ (default: MODEL/calibration.png; none with --no-write)."),
    ] = None,
    write: Annotated[bool, typer.Option(help="Save the best γ into the model's config.")] = True,
    write_default: Annotated[
        bool,
        typer.Option(
            "--write-default",
            help="Allow saving γ into the shipped default model inside the installed package.",
        ),
    ] = False,
    name_fallback: Annotated[
        str,
        typer.Option(
            help="model (the model's link.name_fallback), on, off, or auto: keep whichever gives the "
            "better F1 here (saved with γ)."
        ),
    ] = "model",
    out_of_kb: OutOfKbOption = "ignore",
    quiet: Quiet = False,
    device: Device = "cpu",
    json_output: JsonOutput = False,
) -> None:
    """Link DATA once at a low floor, score every effective γ (paper, Appendix A), keep the best."""
    check_outputs(files={"--plot": plot})
    from entqa_kit.core.device import select_device

    select_device(device)
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.evaluation.calibrate_run import calibrate
    from entqa_kit.evaluation.calibration import summary_rows

    result = calibrate(
        data,
        index_dir=index,
        model_dir=model,
        predictions=predictions,
        data_format=data_format,
        split=split,
        floor=floor,
        write=write,
        plot=plot,
        quiet=quiet,
        write_default=write_default,
        name_fallback=name_fallback,
        out_of_kb=out_of_kb,
    )
    record, best, points, plot_path = result.record, result.best, result.points, result.plot
    if json_output:
        print_json(result.as_json())
        return
    from rich.console import Console
    from rich.table import Table

    from entqa_kit.core.display import literal

    table = Table(
        title=literal(
            f"F1 against γ on {data.name}{f' ({split})' if split else ''}: {len(points):,} thresholds"
        )
    )
    for column in ("γ", "P", "R", "F1", "spans"):
        table.add_column(column, justify="right")
    for point in summary_rows(points, best):
        style = "bold green" if point == best else None
        table.add_row(
            f"{point.threshold:.4g}",
            f"{point.precision:.2f}",
            f"{point.recall:.2f}",
            f"{point.f1:.2f}",
            f"{point.num_pred:,}",
            style=style,
        )
    Console().print(table)
    if not quiet:
        action = f"saved into {literal(result.model_dir)}" if write else "not saved (--no-write)"
        fallback = ", with the name fallback" if record.name_fallback else ""
        stderr_console.print(
            f"best γ {best.threshold:.4g} (F1 {best.f1:.2f}{fallback}; was γ {record.previous_threshold:g} "
            f"before) {action}; plot: {literal(plot_path or 'none')}"
        )
