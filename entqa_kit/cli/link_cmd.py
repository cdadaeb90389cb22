"""``entqa-kit link``: link documents and write predictions JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, Quiet, print_json, user_errors

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
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Predictions JSONL to write.")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="γ: keep spans with p_rerank × p_span above it.")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, help="Candidates per passage.")] = None,
    batch_size: Annotated[int, typer.Option(help="(passage, candidate) pairs per reader batch.")] = 64,
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
    max_chars: Annotated[int, typer.Option(help="Skip documents longer than this.")] = 1_000_000,
    html: Annotated[
        Path | None, typer.Option(help="Also write an HTML page with the mentions highlighted.")
    ] = None,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
) -> None:
    """Link every document; predictions are written as they come (a crash loses at most one document)."""
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.core.progress import progress_bar
    from entqa_kit.documents.link_inputs import InputFailure, iter_inputs
    from entqa_kit.io.predictions import PredictionWriter, print_document_summary
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.default import model_or_default

    linker = Linker.from_pretrained(
        model_or_default(model),
        index,
        threshold=threshold,
        top_k=top_k,
        allow_overlaps=allow_overlaps,
        test_stride=stride,
        candidate_margin=margin,
        test_entity_tokens=entity_tokens,
        quantize=quantize,
    )
    failed = total = 0
    pages = []
    with PredictionWriter(out) as writer, progress_bar("Linking documents", None, quiet) as advance:
        for item in iter_inputs(inputs, max_chars):
            total += 1
            if isinstance(item, InputFailure):
                failed += 1
                typer.echo(f"error: {item.error.message}", err=True)
                advance(1)
                continue
            linked = linker.link_document(item, batch_size)
            writer.write(linked)
            if html is not None:
                pages.append((item, linked))
            if json_output:
                print_json(linked.model_dump())
            elif out is None:
                print_document_summary(item, linked)
            advance(1)
    if html is not None:
        from entqa_kit.io.html_report import render_html, write_html

        entity_ids = {m.entity for _, linked in pages for m in linked.mentions}
        entities = {e: linker.index.kb.by_id(e) for e in entity_ids}
        documents, results = [d for d, _ in pages], [r for _, r in pages]
        write_html(html, render_html(documents, results, entities, subtitle=f"index: {index}"))
    if failed:
        raise EntQAError("E060", failed=failed, total=total)
