"""Run the app with uvicorn: load the linker once, log one line per request, shut down gracefully."""

from __future__ import annotations

import logging
from pathlib import Path

from entqa_kit.serving.settings import ServeSettings

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure_logging(level: str = "info") -> None:
    logger = logging.getLogger("entqa_kit.serving")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def serve(
    index_dir: Path,
    model_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServeSettings | None = None,
    log_level: str = "info",
) -> None:
    """Load the model and index, then serve until SIGINT/SIGTERM (in-flight requests finish first)."""
    import time

    import uvicorn

    from entqa_kit.serving.app import create_app
    from entqa_kit.serving.engine import LinkEngine
    from entqa_kit.serving.uris import EntityUris

    settings = settings or ServeSettings()
    if settings.uri_template is not None:
        EntityUris(settings.uri_template)  # a bad template fails before the model loads
    configure_logging(log_level)
    log = logging.getLogger("entqa_kit.serving")
    clock = time.perf_counter()
    engine = LinkEngine.load(index_dir, model_dir, settings.batch_size)
    app = create_app(engine, settings)  # checks --uri-template before the port opens
    log.info(
        "loaded model %s and index %s (%d entities) in %.1f s; max batch %d, window %g ms",
        engine.model,
        index_dir,
        len(engine.index.kb),
        time.perf_counter() - clock,
        settings.max_batch,
        settings.batch_window_ms,
    )
    uvicorn.run(
        app, host=host, port=port, access_log=False, log_level=log_level, timeout_graceful_shutdown=30
    )
