"""``entqa-kit silver``: find KB names in unlabelled documents and write silver Document JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, check_outputs, print_json, user_errors

MATCHING = "Name matching"


@user_errors
def silver_cli(
    kb_or_index: Annotated[
        Path,
        typer.Argument(help="KB file (KILT, UMLS-style or native JSONL, CSV/TSV) or an index directory."),
    ],
    docs: Annotated[
        Path,
        typer.Argument(help="Unlabelled documents: .txt file or directory, JSONL, PubTator, AIDA tsv, or -."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Silver Document JSONL to write.")],
    min_chars: Annotated[
        int,
        typer.Option(
            min=1,
            help="Drop names shorter than this (acronyms of 2+ capitals excepted).",
            rich_help_panel=MATCHING,
        ),
    ] = 3,
    max_doc_share: Annotated[
        float,
        typer.Option(
            help="Drop names found in more than this share of the documents (with 20+ documents; "
            "1 keeps them all).",
            rich_help_panel=MATCHING,
        ),
    ] = 0.2,
    ambiguous: Annotated[
        str,
        typer.Option(
            help="A name of several entities: canonical (the entity whose title it is), skip, or all.",
            rich_help_panel=MATCHING,
        ),
    ] = "canonical",
    case: Annotated[
        str,
        typer.Option(
            help="auto (acronyms and short mixed-case names exact, others case-insensitive), exact "
            "or insensitive.",
            rich_help_panel=MATCHING,
        ),
    ] = "auto",
    stop_words: Annotated[
        Path | None,
        typer.Option(
            help="Stop list, one word per line, replacing the built-in one (an empty file: none).",
            rich_help_panel=MATCHING,
        ),
    ] = None,
    variants: Annotated[
        bool,
        typer.Option(
            help="Also match British spellings and plurals of names ('tumours' for 'Tumor').",
            rich_help_panel=MATCHING,
        ),
    ] = False,
    abbreviations: Annotated[
        bool,
        typer.Option(
            help="Also mark each short form defined after a matched long form, as in "
            "'familial adenomatous polyposis (FAP)': the later FAPs get its entity.",
            rich_help_panel=MATCHING,
        ),
    ] = False,
    docs_format: Annotated[
        str | None,
        typer.Option("--format", help="Documents: jsonl, txt, pubtator or aida (default: detected)."),
    ] = None,
    split: Annotated[str | None, typer.Option(help="AIDA split: train, testa or testb.")] = None,
    kb_format: Annotated[
        str | None, typer.Option(help="KB file format: kilt, umls, jsonl, csv, or a plug-in.")
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            help="Skip bad KB rows and bad document lines/files, count them, list them in a sidecar."
        ),
    ] = False,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Write the KB's titles and aliases found in DOCS as silver mentions (Document JSONL).

    Longest match first, on word boundaries: training data without labels, and a name-matching
    baseline to score with `evaluate --predictions`."""
    check_outputs(files={"--out": out})
    from entqa_kit.adaptation.silver import SilverOptions, make_silver
    from entqa_kit.kb.name_matcher import STOP_WORDS, MatcherOptions

    matcher = MatcherOptions(
        min_chars=min_chars,
        ambiguous=ambiguous,  # type: ignore[arg-type]
        case=case,  # type: ignore[arg-type]
        stop_words=STOP_WORDS if stop_words is None else _read_stop_words(stop_words),
        max_doc_share=max_doc_share,
        variants=variants,
    )
    options = SilverOptions(
        matcher=matcher,
        docs_format=docs_format,
        split=split,
        kb_format=kb_format,
        skip_bad=skip_bad,
        abbreviations=abbreviations,
    )
    result = make_silver(kb_or_index, docs, out, options, quiet=quiet)
    if json_output:
        print_json(result.as_json())
    if not quiet:
        _print_summary(result)


def _read_stop_words(path: Path) -> frozenset[str]:
    from entqa_kit.core.paths import read_bytes, require_file
    from entqa_kit.io.text_lines import decode_text
    from entqa_kit.kb.name_matcher import fold_case

    text = decode_text(read_bytes(require_file(path, "stop-words")), path)  # E001/E078/E079/E080/E003
    return frozenset(fold_case(" ".join(line.split())) for line in text.splitlines() if line.strip())


def _print_summary(result) -> None:
    from rich.table import Table

    from entqa_kit.core.display import literal as shown
    from entqa_kit.core.progress import stderr_console

    report = result.report
    table = Table(title=f"Silver mentions in {shown(str(result.out))} ({result.seconds:.1f} s)")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("documents", result.documents),
        ("mentions", result.mentions),
        ("distinct entities", result.entities),
        ("KB names kept", report.kept),
        ("  of distinct names", report.names),
        ("  shared, given to their title's entity", report.given_to_canonical),
        ("dropped: shorter than --min-chars", report.dropped["too_short"]),
        ("dropped: stop words", report.dropped["stop_word"]),
        ("dropped: ambiguous", report.dropped["ambiguous"]),
        ("dropped: in more than --max-doc-share of documents", report.dropped["frequent"]),
    ]
    if result.abbreviation_mentions:
        rows.insert(2, ("  of them short forms (--abbreviations)", result.abbreviation_mentions))
    if result.kb_skipped_rows:
        rows.append(("skipped bad KB rows", result.kb_skipped_rows))
    if result.skipped:
        rows.append(("skipped bad inputs", len(result.skipped)))
    for name, count in rows:
        table.add_row(name, f"{count:,}")
    stderr_console.print(table)
    if result.frequent:
        top = sorted(result.frequent.items(), key=lambda item: -item[1])[:10]
        names = ", ".join(f"{shown(name)} ({share:.0%})" for name, share in top)
        stderr_console.print(f"Too frequent: {names}")
    if result.skipped:
        stderr_console.print(
            f"[yellow]Skipped {len(result.skipped):,} bad inputs; listed in {shown(str(result.sidecar))}; "
            f"first: {shown(result.skipped[0].message)}[/yellow]"
        )
