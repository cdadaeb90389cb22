"""``entqa-kit index``: build a dense index of a KB file."""

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
    print_json,
    user_errors,
)

TABLE = "Table columns (CSV/TSV)"


@user_errors
def index_cli(
    kb_file: Annotated[
        Path, typer.Argument(help="KB file: KILT or UMLS-style JSONL, native JSONL, CSV or TSV.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Index directory to write (or resume).")],
    kb_format: Annotated[
        str | None, typer.Option("--format", help="kilt, umls, jsonl, csv, or a plug-in.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Entity encoder: an entqa-kit model directory (its entity tower; default: the shipped "
            "model's), any HF id or path, or 'minilm': the offline all-MiniLM-L6-v2 base encoder "
            "(the shipped model's frozen entity tower)."
        ),
    ] = None,
    index_type: Annotated[
        str, typer.Option(help="auto (flat up to 250k entities, else ivfpq), flat, hnsw or ivfpq.")
    ] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Entities per encoder batch.")] = 64,
    pooling: Annotated[str | None, typer.Option(help="cls or mean (default: what the model says).")] = None,
    max_entity_tokens: Annotated[
        int | None, typer.Option(min=1, help="Truncate entity text to this many tokens (default 64).")
    ] = None,
    include_aliases: Annotated[
        bool | None, typer.Option(help="Add up to 3 aliases after the title (default: off).")
    ] = None,
    dtype: Annotated[
        str | None, typer.Option(help="auto, float32 or bfloat16 (default auto: bf16 where the CPU has it).")
    ] = None,
    alias_rows: Annotated[
        bool,
        typer.Option(
            help="Index each alias as an extra row of its entity (alias as the title, same description), so "
            "aliases count with the shipped model; search still returns each entity once."
        ),
    ] = False,
    max_alias_rows: Annotated[int, typer.Option(min=1, help="Alias rows per entity at most.")] = 16,
    skip_bad: Annotated[
        bool, typer.Option(help="Skip bad rows, count them, list them in a sidecar.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an index of other inputs in --out.")] = False,
    id_col: Annotated[
        str, typer.Option(help="Header of the column with the entity ids.", rich_help_panel=TABLE)
    ] = "id",
    title_col: Annotated[
        str, typer.Option(help="Header of the column with the entity titles.", rich_help_panel=TABLE)
    ] = "title",
    description_col: Annotated[
        str | None,
        typer.Option(
            help="Column with descriptions (default: 'description' if present).", rich_help_panel=TABLE
        ),
    ] = None,
    aliases_col: Annotated[
        str | None,
        typer.Option(
            help="Column with aliases, split on --list-sep (default: 'aliases' if present).",
            rich_help_panel=TABLE,
        ),
    ] = None,
    types_col: Annotated[
        str | None,
        typer.Option(
            help="Column with types, split on --list-sep (default: 'types' if present).",
            rich_help_panel=TABLE,
        ),
    ] = None,
    alt_ids_col: Annotated[
        str | None,
        typer.Option(
            help="Column with alternative ids, split on --list-sep (default: 'alt_ids' if present).",
            rich_help_panel=TABLE,
        ),
    ] = None,
    list_sep: Annotated[str, typer.Option(help="Separator inside list cells.", rich_help_panel=TABLE)] = "|",
    delimiter: Annotated[
        str | None,
        typer.Option(
            help="Column delimiter, e.g. ';' or tab (default: tab for .tsv, else comma).",
            rich_help_panel=TABLE,
        ),
    ] = None,
    ray: RayFlag = False,
    ray_address: RayAddress = None,
    ray_workers: RayWorkers = 2,
    ray_cpus_per_worker: RayCpus = 1.0,
    device: Device = "cpu",
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Encode every entity of KB_FILE and build a searchable index in --out (resumable)."""
    from entqa_kit.core.config import IndexConfig, validated
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.index.build import SKIPPED_ROWS, build_index
    from entqa_kit.index.settings import resolve_entity_encoder
    from entqa_kit.io.read_options import ReadOptions, TableColumns

    encoder_config = resolve_entity_encoder(model, pooling, max_entity_tokens, include_aliases, dtype)
    index_config = validated(IndexConfig, index_type=index_type, batch_size=batch_size)
    columns = TableColumns(
        id=id_col,
        title=title_col,
        description=description_col,
        aliases=aliases_col,
        types=types_col,
        alt_ids=alt_ids_col,
        list_separator=list_sep,
        delimiter=delimiter,
    )
    from entqa_kit.core.device import select_device

    select_device(device)
    build = build_index
    if ray or ray_address is not None:  # the shards are encoded by Ray tasks
        from functools import partial

        from entqa_kit.distributed.ray_index import RayOptions, build_index_ray

        build = partial(build_index_ray, options=RayOptions(ray_address, ray_workers, ray_cpus_per_worker))
    result = build(
        kb_file,
        out,
        encoder_config=encoder_config,
        index_config=index_config,
        read_options=ReadOptions(skip_bad, columns),
        kb_format=kb_format,
        overwrite=overwrite,
        quiet=quiet,
        alias_rows=max_alias_rows if alias_rows else 0,
    )
    if json_output:
        print_json(result.as_json())
    if quiet:
        return
    if result.reused:
        stderr_console.print(
            f"{literal(out)} is already up to date ({result.count:,} entities); nothing to do."
        )
    else:
        resumed = f", resumed at {result.resumed_from:,}" if result.resumed_from else ""
        entities = f"{result.count:,} entit{'y' if result.count == 1 else 'ies'}"
        if result.rows is not None and result.rows != result.count:
            entities += f" ({result.rows:,} rows with aliases)"
        stderr_console.print(
            f"Indexed {entities} (dim {result.dim}, {result.index_type}) into {literal(out)} in "
            f"{result.seconds:.1f} s (encoding {result.encode_seconds:.1f} s, "
            f"{result.entities_per_second:,.0f} entities/s{resumed}).",
            soft_wrap=True,
        )
    if result.skipped_rows:
        stderr_console.print(
            f"[yellow]Skipped {result.skipped_rows:,} bad rows; their lines are in "
            f"{literal(out / SKIPPED_ROWS)}.[/yellow]"
        )
