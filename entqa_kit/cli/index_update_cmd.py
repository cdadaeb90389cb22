"""``entqa-kit index add|remove|compact IDX``: change a built index without rebuilding it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, print_json, user_errors

TABLE = "Table columns (CSV/TSV)"
IndexDir = Annotated[Path, typer.Argument(help="Index directory built by 'entqa-kit index KB --out IDX'.")]


def _report(change, json_output: bool, quiet: bool) -> None:
    """The change as JSON on stdout (--json) and one summary line (and any advice) on stderr."""
    from entqa_kit.core.display import literal
    from entqa_kit.core.progress import stderr_console

    if json_output:
        print_json(change.as_json())
    if quiet:
        return
    done = {
        "add": f"added {change.added:,}, re-encoded {change.updated:,}, left {change.skipped:,} as they were",
        "remove": f"removed {change.removed:,}",
        "compact": f"dropped {change.dropped_rows:,} dead vector rows",
    }[change.operation]
    stderr_console.print(
        f"{literal(change.directory)}: {done}; now {change.entities:,} entities in {change.rows:,} "
        f"vector rows ({change.seconds:.1f} s).",
        soft_wrap=True,
    )
    if change.skipped_rows:
        stderr_console.print(f"[yellow]Skipped {change.skipped_rows:,} bad rows.[/yellow]")
    for advice in change.advice:
        stderr_console.print(f"[yellow]Advice: {literal(advice)}.[/yellow]", soft_wrap=True)


@user_errors
def index_add_cli(
    index_dir: IndexDir,
    kb_file: Annotated[
        Path, typer.Argument(help="Entities to add: KILT or UMLS-style JSONL, native JSONL, CSV or TSV.")
    ],
    on_duplicate: Annotated[
        str,
        typer.Option(
            help="An id already in the index: error, update (re-encode it with the new content) or skip.",
        ),
    ] = "error",
    kb_format: Annotated[
        str | None, typer.Option("--format", help="kilt, umls, jsonl, csv, or a plug-in.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Entities per encoder batch.")] = 64,
    skip_bad: Annotated[bool, typer.Option(help="Skip bad rows of KB_FILE and count them.")] = False,
    id_col: Annotated[str, typer.Option(help="Header of the id column.", rich_help_panel=TABLE)] = "id",
    title_col: Annotated[
        str, typer.Option(help="Header of the title column.", rich_help_panel=TABLE)
    ] = "title",
    description_col: Annotated[
        str | None, typer.Option(help="Column with descriptions.", rich_help_panel=TABLE)
    ] = None,
    aliases_col: Annotated[
        str | None, typer.Option(help="Column with aliases.", rich_help_panel=TABLE)
    ] = None,
    list_sep: Annotated[str, typer.Option(help="Separator inside list cells.", rich_help_panel=TABLE)] = "|",
    delimiter: Annotated[str | None, typer.Option(help="Column delimiter.", rich_help_panel=TABLE)] = None,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Encode the entities of KB_FILE with the index's own encoder and add them to INDEX_DIR in place
    (atomic: a killed run leaves the index as it was)."""
    from entqa_kit.index.update import add_entities
    from entqa_kit.io.read_options import ReadOptions, TableColumns

    columns = TableColumns(
        id=id_col,
        title=title_col,
        description=description_col,
        aliases=aliases_col,
        list_separator=list_sep,
        delimiter=delimiter,
    )
    change = add_entities(
        index_dir,
        kb_file,
        on_duplicate,  # type: ignore[arg-type]
        kb_format=kb_format,
        read_options=ReadOptions(skip_bad, columns),
        batch_size=batch_size,
        quiet=quiet,
    )
    _report(change, json_output, quiet)


@user_errors
def index_remove_cli(
    index_dir: IndexDir,
    ids_file: Annotated[
        Path,
        typer.Argument(help="Entity ids to remove, one per line ('#' comments and blank lines ignored)."),
    ],
    ignore_missing: Annotated[bool, typer.Option(help="Ignore ids that are not in the index.")] = False,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Remove entities from INDEX_DIR: search never returns them again ('index compact' drops their rows)."""
    from entqa_kit.index.update import remove_entities

    _report(remove_entities(index_dir, ids_file, ignore_missing), json_output, quiet)


@user_errors
def index_compact_cli(index_dir: IndexDir, quiet: Quiet = False, json_output: JsonOutput = False) -> None:
    """Rewrite INDEX_DIR without the rows of removed or re-encoded entities; retrains an ivfpq quantiser."""
    from entqa_kit.index.update import compact_index

    _report(compact_index(index_dir, quiet), json_output, quiet)
