"""``entqa-kit export``: a smaller copy of a model directory (fp16 weights, no checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, check_outputs, print_json, user_errors


@user_errors
def export_cli(
    model: Annotated[Path, typer.Argument(help="Trained model directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write.")],
    dtype: Annotated[str, typer.Option(help="float16, bfloat16 or float32.")] = "float16",
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Copy MODEL to --out with its weights cast to --dtype (loading casts back to float32)."""
    check_outputs(dirs={"--out": out})
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.models.export import export_model

    result = export_model(model, out, dtype, overwrite)
    if json_output:
        print_json({"out": str(result.out), "files": result.files, "bytes": result.bytes})
    elif not quiet:
        stderr_console.print(
            f"Exported {result.files} files, {result.bytes / 1e6:.1f} MB, to {literal(result.out)}."
        )
