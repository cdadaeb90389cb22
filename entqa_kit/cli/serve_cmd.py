"""``entqa-kit serve``: the HTTP API (link, search, entities, health, GERBIL NIF, reload) with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import Device, user_errors

LIMITS = "Limits and batching"


@user_errors
def serve_cli(
    index: Annotated[Path, typer.Option("--index", help="Index directory of the KB.")],
    model: Annotated[
        Path | None, typer.Option(help="Trained model directory (default: the shipped aida-cpu model).")
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on (127.0.0.1: this machine only; /admin/reload has no authentication)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8000,
    max_batch: Annotated[
        int, typer.Option(min=1, help="Documents read in one shared batch.", rich_help_panel=LIMITS)
    ] = 16,
    batch_window_ms: Annotated[
        float,
        typer.Option(min=0, help="How long a batch waits for more documents.", rich_help_panel=LIMITS),
    ] = 10.0,
    max_queue: Annotated[
        int, typer.Option(min=1, help="Queued documents before 503 (busy).", rich_help_panel=LIMITS)
    ] = 512,
    max_docs: Annotated[int, typer.Option(min=1, help="Documents per request.", rich_help_panel=LIMITS)] = 64,
    max_chars: Annotated[
        int, typer.Option(min=1, help="Characters per document.", rich_help_panel=LIMITS)
    ] = 100_000,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Request body size.", rich_help_panel=LIMITS)
    ] = 10_000_000,
    max_top_k: Annotated[
        int, typer.Option(min=1, help="Largest per-request top_k.", rich_help_panel=LIMITS)
    ] = 100,
    batch_size: Annotated[int, typer.Option(min=1, help="(passage, candidate) pairs per reader batch.")] = 64,
    uri_template: Annotated[
        str | None,
        typer.Option(
            help="GERBIL entity URIs, with {id} or {title} (default: DBpedia titles for a KILT KB, "
            "else --uri-prefix + id)."
        ),
    ] = None,
    uri_prefix: Annotated[str, typer.Option(help="Entity URI prefix for non-Wikipedia KBs.")] = "urn:entqa:",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    device: Device = "cpu",
) -> None:
    """Serve the linker over HTTP; OpenAPI docs at /docs. Ctrl-C stops it after in-flight requests.

    POST /admin/reload reads the index directory again (after `index add`, `remove` or `compact`).
    """
    from entqa_kit.core.device import select_device

    select_device(device)
    from entqa_kit.core.config import validated
    from entqa_kit.serving.server import serve
    from entqa_kit.serving.settings import ServeSettings

    settings = validated(
        ServeSettings,
        max_batch=max_batch,
        batch_window_ms=batch_window_ms,
        max_queue=max_queue,
        max_docs=max_docs,
        max_chars=max_chars,
        max_body_bytes=max_body_bytes,
        max_top_k=max_top_k,
        batch_size=batch_size,
        uri_template=uri_template,
        uri_prefix=uri_prefix,
    )
    serve(index, model, host, port, settings, log_level)
