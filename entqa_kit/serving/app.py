"""The FastAPI app: /link, /search, /entities/{id}, /health, /gerbil and /admin/reload over one LinkEngine.

``create_app(engine, settings)`` builds it; ``entqa-kit serve`` runs it with uvicorn. Every failure
is a coded error in ``{"error": {"code", "message"}}`` with a fitting status; no traceback reaches a
client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager

from entqa_kit import __version__
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, LinkedDocument
from entqa_kit.serving.batcher import MicroBatcher
from entqa_kit.serving.engine import LinkEngine, LinkJob
from entqa_kit.serving.guard import RequestGuard, error_payload
from entqa_kit.serving.schemas import (
    EntityOut,
    ErrorResponse,
    Health,
    LinkRequest,
    LinkResponse,
    Reloaded,
    SearchRequest,
    SearchResponse,
)
from entqa_kit.serving.settings import ServeSettings

log = logging.getLogger("entqa_kit.serving")

STATUS = {
    "E040": 422,
    "E041": 422,
    "E061": 422,
    "E062": 413,
    "E120": 413,
    "E121": 413,
    "E122": 400,
    "E123": 400,
    "E124": 422,
    "E125": 404,
    "E126": 400,
    "E127": 400,
    "E128": 400,
    "E129": 501,
    "E130": 503,
    "E131": 500,
    "E132": 415,
    "E133": 409,
}
ERRORS = {
    status: {"model": ErrorResponse, "description": "coded error"} for status in (400, 404, 413, 422, 503)
}


def create_app(engine: LinkEngine, settings: ServeSettings | None = None):
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    settings = settings or ServeSettings()
    batcher: MicroBatcher[LinkJob, LinkedDocument | Exception] = MicroBatcher(
        engine.link_batch, settings.max_batch, settings.batch_window_ms / 1000, settings.max_queue
    )
    started = time.time()

    @asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(
        title="entqa-kit",
        version=__version__,
        description="EntQA entity linking over one KB index: link documents, search the KB, GERBIL NIF.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    app.state.engine = engine
    app.state.batcher = batcher
    app.state.settings = settings

    def coded(request: Request, error: EntQAError) -> JSONResponse:
        request.state.error_code = error.code
        status = STATUS.get(error.code, 400)
        return Response(error_payload(error), status_code=status, media_type="application/json")

    @app.exception_handler(EntQAError)
    async def on_coded_error(request: Request, error: EntQAError):
        return coded(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, error: RequestValidationError):
        problems = error.errors()
        first = problems[0] if problems else {"type": "", "loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            ctx = first.get("ctx") or {}
            position = first["loc"][-1] if first.get("loc") else "?"
            return coded(
                request,
                EntQAError("E122", detail=f"{ctx.get('error', 'decode error')} at character {position}"),
            )
        return coded(request, EntQAError("E124", detail=describe(first, len(problems))))

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException):
        body = {"error": {"code": None, "message": str(error.detail)}}
        return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))

    async def link_jobs(jobs: list[LinkJob]) -> list[LinkedDocument]:
        results = await batcher.submit(jobs)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def check_documents(count: int, texts: list[tuple[str, str]]) -> None:
        if count > settings.max_docs:
            raise EntQAError("E121", count=count, limit=settings.max_docs)
        for doc_id, text in texts:
            if len(text) > settings.max_chars:
                raise EntQAError(
                    "E062", source="request", doc_id=doc_id, chars=len(text), limit=settings.max_chars
                )
            if not text.strip():
                raise EntQAError("E061", source="request", doc_id=doc_id)

    @app.post("/link", response_model=LinkResponse, responses=ERRORS, summary="Link documents")
    async def link(body: LinkRequest) -> LinkResponse:
        """Find the mentions of KB entities in each document (EntQA: retrieve, then read)."""
        documents = body.as_documents()
        check_documents(len(documents), [(d.id, d.text) for d in documents])
        if body.top_k is not None and body.top_k > settings.max_top_k:
            raise EntQAError("E124", detail=f"top_k must be at most {settings.max_top_k}, got {body.top_k}")
        jobs = [LinkJob(Document(id=d.id, text=d.text), body.top_k, body.threshold) for d in documents]
        return LinkResponse(documents=await link_jobs(jobs))

    @app.post("/search", response_model=SearchResponse, responses=ERRORS, summary="Search the KB")
    async def search(body: SearchRequest) -> SearchResponse:
        """The index's top-k entities for a text, as ``entqa-kit search`` finds them."""
        if body.k > settings.max_search_k:
            raise EntQAError("E124", detail=f"k must be at most {settings.max_search_k}, got {body.k}")
        hits = await batcher.run_alone(lambda: engine.search(body.text, body.k))
        return SearchResponse(hits=[h.model_copy(update={"score": round(h.score, 6)}) for h in hits])

    @app.get("/entities/{entity_id:path}", response_model=EntityOut, responses=ERRORS, summary="One entity")
    async def entity(entity_id: str) -> EntityOut:
        found = engine.entity(entity_id)
        return EntityOut(**found.model_dump())

    @app.get("/health", response_model=Health, summary="Model, index and queue")
    async def health() -> Health:
        index = engine.index
        return Health(
            status="ok",
            version=__version__,
            model=str(engine.model),
            index=str(index.directory),
            kb_size=len(index.kb),
            kb_fingerprint=index.manifest.kb_fingerprint,
            model_fingerprint=index.manifest.model_fingerprint,
            threshold=engine.threshold,
            top_k=engine.top_k,
            queued=batcher.queued,
            batches=engine.batches,
            documents_linked=engine.documents_linked,
            uptime_s=round(time.time() - started, 3),
        )

    reloading = asyncio.Lock()

    @app.post(
        "/admin/reload",
        response_model=Reloaded,
        responses={409: {"model": ErrorResponse, "description": "E133: the index on disk cannot be opened"}},
        summary="Reload the index from disk",
    )
    async def reload_index() -> Reloaded:
        """Read the index directory again (after ``entqa-kit index add``, ``remove`` or ``compact``)
        without restarting: the model stays loaded. The new index is opened beside the running batch,
        then put in place between batches: a batch in progress finishes on the old index, documents
        still queued are linked over the new one. If it cannot be opened (409, E133), the old index
        goes on serving."""
        async with reloading:  # one reload at a time
            clock = time.perf_counter()
            fresh = await asyncio.to_thread(engine.open_index)
            previous = await batcher.run_alone(lambda: engine.swap_index(fresh))
            seconds = time.perf_counter() - clock
        log.info(
            "reloaded index %s: %d entities (KB %s), before %d (KB %s), in %.2f s",
            fresh.directory,
            len(fresh.kb),
            fresh.manifest.kb_fingerprint,
            len(previous.kb),
            previous.manifest.kb_fingerprint,
            seconds,
        )
        return Reloaded(
            index=str(fresh.directory),
            kb_size=len(fresh.kb),
            kb_fingerprint=fresh.manifest.kb_fingerprint,
            previous_kb_size=len(previous.kb),
            previous_kb_fingerprint=previous.manifest.kb_fingerprint,
            seconds=round(seconds, 3),
        )

    from entqa_kit.serving.gerbil import add_gerbil_route

    add_gerbil_route(app, engine, settings, link_jobs, check_documents)
    return app


def describe(problem: dict, count: int) -> str:
    """``documents[0].text: Field required`` (and how many more problems there are)."""
    parts = [p for p in problem.get("loc", ()) if p != "body"]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    message = problem.get("msg", "invalid value").removeprefix("Value error, ")
    more = f" (and {count - 1} more)" if count > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"
