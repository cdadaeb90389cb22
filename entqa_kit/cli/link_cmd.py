"""``entqa-kit link``: link documents and write predictions JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import (
    Device,
    JsonOutput,
    Quiet,
    RayAddress,
    RayCpus,
    RayFlag,
    RayWorkers,
    check_outputs,
    error_line,
    error_message,
    print_json,
    user_errors,
)

SPEED = "Speed levers (defaults: the model's saved settings)"


@user_errors
def link_cli(
    inputs: Annotated[
        list[str], typer.Argument(help=".txt/.jsonl files, directories of them, or - for stdin.")
    ],
    index: Annotated[Path, typer.Option("--index", help="Index directory of the KB.")],
    model: Annotated[
        Path | None, typer.Option(help="Trained model directory (default: the shipped aida-cpu model).")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="Predictions JSONL to write (with --ray, DIR/ writes JSONL shards + manifest).",
        ),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="γ: keep spans with p_rerank × p_span above it.")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, help="Candidates per passage.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="(passage, candidate) pairs per reader batch.")] = 64,
    stride: Annotated[
        int | None,
        typer.Option(
            min=1, help="Passage stride when linking (default: the model's).", rich_help_panel=SPEED
        ),
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Read only candidates within this retriever-score margin of the best.",
            rich_help_panel=SPEED,
        ),
    ] = None,
    entity_tokens: Annotated[
        int | None, typer.Option(min=4, help="Entity wordpieces the reader reads.", rich_help_panel=SPEED)
    ] = None,
    quantize: Annotated[
        str | None, typer.Option(help="none or int8 (dynamic int8 reader on CPU).", rich_help_panel=SPEED)
    ] = None,
    allow_overlaps: Annotated[
        bool, typer.Option(help="Keep overlapping spans of different entities.")
    ] = False,
    candidates: Annotated[
        str | None,
        typer.Option(
            help="dense (the retriever's top-K) or dense+names (plus the KB names found in the passage); "
            "default: the model's setting."
        ),
    ] = None,
    name_fallback: Annotated[
        bool | None,
        typer.Option(
            "--name-fallback/--no-name-fallback",
            help="Link KB-name matches where the reader linked nothing (score: the threshold); "
            "default: the model's setting.",
        ),
    ] = None,
    abbreviations: Annotated[
        bool | None,
        typer.Option(
            "--abbreviations/--no-abbreviations",
            help='Give each use of a short form defined in the document ("long form (SF)") its long '
            "form's link; default: the model's setting.",
        ),
    ] = None,
    anchor_floor: Annotated[
        float | None,
        typer.Option(
            "--name-anchor-floor",
            min=0.0,
            max=1.0,
            help="With the name fallback: also link a reader span scored above this (but not above the "
            "threshold) that strictly contains a KB-name match; default: the model's setting.",
        ),
    ] = None,
    max_chars: Annotated[int, typer.Option(min=1, help="Skip documents longer than this.")] = 1_000_000,
    html: Annotated[
        Path | None, typer.Option(help="Also write an HTML page with the mentions highlighted.")
    ] = None,
    ray: RayFlag = False,
    ray_address: RayAddress = None,
    ray_workers: RayWorkers = 2,
    ray_cpus_per_worker: RayCpus = 1.0,
    device: Device = "cpu",
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Link every document; predictions are written as they come (a crash loses at most one document)."""
    from entqa_kit.core.device import select_device

    overrides = {  # the linker's settings (None: the model's)
        "threshold": threshold, "top_k": top_k, "allow_overlaps": allow_overlaps or None,
        "candidates": candidates, "test_stride": stride, "candidate_margin": margin,
        "test_entity_tokens": entity_tokens, "quantize": quantize, "name_fallback": name_fallback,
        "abbreviations": abbreviations, "name_anchor_floor": anchor_floor,
    }  # fmt: skip
    on_failure = lambda error: typer.echo(error_line(error), err=True)  # noqa: E731
    if ray or ray_address is not None:
        from entqa_kit.distributed.ray_link import RayOptions, check_ray_outputs, link_inputs_ray

        check_ray_outputs(out, html)
        select_device(device)
        options = RayOptions(address=ray_address, workers=ray_workers, cpus_per_worker=ray_cpus_per_worker)
        result = link_inputs_ray(
            inputs, index_dir=index, out=out, model_dir=model, ray=options, max_chars=max_chars,
            batch_size=batch_size, quiet=quiet, on_failure=on_failure, **overrides,
        )  # fmt: skip
        return _report(result, json_output, quiet)
    out = Path(out) if out is not None else None
    check_outputs(files={"--out": out, "--html": html})
    select_device(device)
    from entqa_kit.io.predictions import print_document_summary
    from entqa_kit.linking.run import link_inputs

    def show(document, linked) -> None:
        if out is not None:
            return  # the predictions go to --out; a summary follows
        if json_output:
            print_json(linked.model_dump())
        else:
            print_document_summary(document, linked)

    result = link_inputs(
        inputs, index_dir=index, model_dir=model, out=out, html=html, max_chars=max_chars,
        batch_size=batch_size, quiet=quiet, on_document=show, on_failure=on_failure, **overrides,
    )  # fmt: skip
    _report(result, json_output and out is not None, quiet or (out is None and html is None))


def _report(result, json_output: bool, quiet: bool) -> None:
    """The run's JSON summary or one summary line, then E060 when some documents failed."""
    from entqa_kit.core.errors import EntQAError

    if json_output:
        print_json(result.as_json() | {"failures": [error_message(f) for f in result.failures]})
    elif not quiet:
        _print_summary(result)
    if result.failures:
        raise EntQAError("E060", failed=len(result.failures), total=result.total)


def _print_summary(result) -> None:
    """One line on stderr: what was linked and which files were written."""
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console

    documents = f"{result.documents:,} document{'' if result.documents == 1 else 's'}"
    mentions = f"{result.mentions:,} mention{'' if result.mentions == 1 else 's'}"
    written = [
        f"predictions {result.out}" if result.out else "",
        f"HTML {result.html}" if result.html else "",
    ]
    failed = f" ({len(result.failures):,} failed)" if result.failures else ""
    stderr_console.print(
        literal(f"Linked {documents}, {mentions}{failed} in {result.seconds:.1f} s; wrote ")
        + literal(", ".join(w for w in written if w)),
        highlight=False,
        soft_wrap=True,
    )
