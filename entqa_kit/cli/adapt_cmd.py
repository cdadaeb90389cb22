"""``entqa-kit adapt``: a linker for your KB from your documents, with no labels or a few."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, check_outputs, print_json, user_errors

MATCHING = "Silver mentions"
TRAINING = "Training"


@user_errors
def adapt_cli(
    kb_or_index: Annotated[
        Path,
        typer.Argument(help="KB file (KILT, UMLS-style or native JSONL, CSV/TSV) or an index directory."),
    ],
    unlabelled: Annotated[
        Path,
        typer.Option(help="Unlabelled documents of your domain: .txt file or directory, JSONL, PubTator."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    labelled: Annotated[
        Path | None, typer.Option(help="A few labelled documents (JSONL, PubTator, AIDA tsv).")
    ] = None,
    dev: Annotated[
        Path | None,
        typer.Option(help="Labelled documents to calibrate γ on (default: 20% of --labelled held out)."),
    ] = None,
    index: Annotated[
        Path | None, typer.Option(help="Where to build the KB's index (default: OUT/index).")
    ] = None,
    init_from: Annotated[
        Path | None, typer.Option(help="Model directory to start from (default: the shipped model).")
    ] = None,
    budget_minutes: Annotated[
        float, typer.Option(help="Training time to aim for on 2 CPU cores.", rich_help_panel=TRAINING)
    ] = 20.0,
    silver_mask: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.95,
            help="Share of silver mentions left out of the reader's loss (not taught either way).",
            rich_help_panel=TRAINING,
        ),
    ] = 0.3,
    silver_abbreviations: Annotated[
        bool,
        typer.Option(
            help="Short forms defined after a matched long form ('... polyposis (FAP)') are silver "
            "mentions too.",
            rich_help_panel=MATCHING,
        ),
    ] = True,
    name_variants: Annotated[
        bool,
        typer.Option(
            help="Also match British spellings and plurals of the KB's names, for silver mentions "
            "and in the linker's name matcher.",
            rich_help_panel=MATCHING,
        ),
    ] = True,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a key of the recipe written: a.b=value.", rich_help_panel=TRAINING
        ),
    ] = None,
    min_chars: Annotated[
        int, typer.Option(min=1, help="Names shorter than this are not matched.", rich_help_panel=MATCHING)
    ] = 3,
    max_doc_share: Annotated[
        float,
        typer.Option(help="Drop names found in more than this share of documents.", rich_help_panel=MATCHING),
    ] = 0.2,
    kb_format: Annotated[
        str | None, typer.Option(help="KB file format: kilt, umls, jsonl, csv, or a plug-in.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run in --out.")] = False,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Adapt the shipped model to KB_OR_INDEX: silver mentions of the KB's names in --unlabelled, the KB's
    names as retriever queries, both stages trained, γ calibrated on --dev; writes OUT/recipe.toml."""
    check_outputs(dirs={"--out": out, "--index": index})
    from entqa_kit.adaptation.adapt import AdaptOptions, adapt
    from entqa_kit.kb.name_matcher import MatcherOptions

    options = AdaptOptions(
        labelled=labelled,
        dev=dev,
        index_dir=index,
        init_from=init_from,
        budget_minutes=budget_minutes,
        matcher=MatcherOptions(min_chars=min_chars, max_doc_share=max_doc_share),
        silver_mask=silver_mask,
        silver_abbreviations=silver_abbreviations,
        name_variants=name_variants,
        kb_format=kb_format,
        resume=resume,
        overrides=tuple(overrides or ()),
    )
    result = adapt(kb_or_index, unlabelled, out, options, quiet=quiet)
    if json_output:
        print_json(result.as_json())
    if not quiet:
        _print_summary(result)


def _print_summary(result) -> None:
    from rich.table import Table

    from entqa_kit.core.display import literal as shown
    from entqa_kit.core.progress import stderr_console

    table = Table(title=f"Adapted model {shown(str(result.model_dir))}")
    for name, justify in (("step", "left"), ("result", "left"), ("time", "right")):
        table.add_column(name, justify=justify)
    for step, text, minutes in result.summary_rows():
        table.add_row(step, shown(text), f"{minutes:.1f} min")
    stderr_console.print(table)
    stderr_console.print(
        f"Recipe: {shown(str(result.recipe))}; link with --model {shown(str(result.model_dir))} "
        f"--index {shown(str(result.index_dir))}"
    )
