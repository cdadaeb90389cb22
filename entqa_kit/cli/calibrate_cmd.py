"""``entqa-kit calibrate``: choose the span threshold γ on labelled data and save it in the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, print_json, user_errors


@user_errors
def calibrate_cli(
    data: Annotated[Path, typer.Argument(help="Labelled dev documents: AIDA tsv, PubTator, or JSONL.")],
    index: Annotated[Path, typer.Option("--index", help="Index directory of the KB.")],
    model: Annotated[Path, typer.Option(help="Trained model directory; its γ is rewritten.")],
    predictions: Annotated[
        Path | None,
        typer.Option(help="Sweep this predictions JSONL (linked with --threshold at most --floor)."),
    ] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="aida, pubtator or jsonl.")] = None,
    split: Annotated[str | None, typer.Option(help="AIDA split, e.g. testa (the dev set).")] = None,
    floor: Annotated[float, typer.Option(min=0.0, help="Link once at this γ, the lowest swept.")] = 0.001,
    plot: Annotated[
        Path | None, typer.Option(help="PNG of P/R/F1 against γ (default: MODEL/calibration.png).")
    ] = None,
    write: Annotated[bool, typer.Option(help="Save the best γ into the model's config.")] = True,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Link DATA once at a low floor, score every effective γ (paper, Appendix A), keep the best."""
    from entqa_kit.core.config import CalibrationRecord
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.evaluation.calibration import (
        best_point,
        plot_curve,
        summary_rows,
        threshold_curve,
    )
    from entqa_kit.evaluation.linking import labelled_predictions
    from entqa_kit.evaluation.scoring import ranked_outcomes
    from entqa_kit.models.model_dir import read_model_config, write_model_dir

    config = read_model_config(model)
    if config.reader is None:
        raise EntQAError("E042", path=model)
    run = labelled_predictions(
        data, index, str(model), predictions, data_format, split, quiet, threshold=floor
    )
    points = threshold_curve(ranked_outcomes(run.documents.documents, run.predictions), floor)
    if not points:
        raise EntQAError("E063", data=data, floor=floor)
    best = best_point(points)
    record = CalibrationRecord(
        data=data.name,
        split=split,
        num_docs=len(run.documents.documents),
        floor=floor,
        threshold=best.threshold,
        precision=best.precision,
        recall=best.recall,
        f1=best.f1,
        previous_threshold=config.reader.threshold,
    )
    plot_path = plot or model / "calibration.png"
    plot_curve(points, best, plot_path, f"γ calibration on {data.name}{f' ({split})' if split else ''}")
    if write:
        config.reader = config.reader.model_copy(update={"threshold": best.threshold})
        config.calibration = record
        write_model_dir(model, config)
    if json_output:
        print_json(
            record.model_dump()
            | {"plot": str(plot_path), "written": write, "curve": [vars(p) for p in points]}
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"F1 against γ on {data.name}{f' ({split})' if split else ''}: {len(points):,} thresholds"
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
        action = f"saved into {model}" if write else "not saved (--no-write)"
        stderr_console.print(
            f"best γ {best.threshold:.4g} (F1 {best.f1:.2f}; was γ {record.previous_threshold:g} before) "
            f"{action}; plot: {plot_path}"
        )
