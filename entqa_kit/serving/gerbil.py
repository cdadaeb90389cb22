"""POST /gerbil: the NIF web service GERBIL calls (A2KB when no phrases are sent, D2KB when they are)."""

from collections.abc import Awaitable, Callable

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, LinkedDocument
from entqa_kit.serving.engine import LinkEngine, LinkJob
from entqa_kit.serving.nif import NIF_NS, TURTLE_TYPES, annotate, parse_nif
from entqa_kit.serving.settings import ServeSettings
from entqa_kit.serving.uris import EntityUris


def add_gerbil_route(
    app,
    engine: LinkEngine,
    settings: ServeSettings,
    link_jobs: Callable[[list[LinkJob]], Awaitable[list[LinkedDocument]]],
    check_documents: Callable[[int, list[tuple[str, str]]], None],
) -> None:
    from fastapi import Request  # a real name (no postponed annotations here): FastAPI injects by type
    from fastapi.responses import Response

    uris = EntityUris.for_kb(engine.index.manifest.kb_format, settings.uri_template, settings.uri_prefix)

    @app.post(
        "/gerbil",
        summary="GERBIL NIF annotator (A2KB / D2KB)",
        response_class=Response,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {t: {"schema": {"type": "string"}, "example": _EXAMPLE} for t in TURTLE_TYPES},
            }
        },
        responses={200: {"content": {"text/turtle": {}}, "description": "the documents, annotated"}},
    )
    async def gerbil(request: Request) -> Response:
        """NIF 2.0 Turtle in (one ``nif:Context`` per document; ``nif:Phrase`` spans for D2KB), the same
        graph back with ``itsrdf:taIdentRef`` on every linked phrase."""
        content_type = request.headers.get("content-type", "text/turtle").split(";")[0].strip().lower()
        if content_type not in (*TURTLE_TYPES, "text/plain", ""):
            expected = "NIF as " + " or ".join(TURTLE_TYPES)
            raise EntQAError("E132", content_type=content_type, path="/gerbil", expected=expected)
        graph, contexts = parse_nif((await request.body()).decode("utf-8"))
        check_documents(len(contexts), [(c.doc_id, c.text) for c in contexts])
        if any(c.phrases for c in contexts) and not engine.links_given_spans:
            raise EntQAError("E129")
        jobs = [
            LinkJob(Document(id=c.doc_id, text=c.text), mentions=c.spans if c.phrases else None)
            for c in contexts
        ]
        for context, linked in zip(contexts, await link_jobs(jobs)):
            annotate(graph, context, linked, lambda m: uris.uri(m.entity, m.title))
        turtle = graph.serialize(format="turtle")
        accept = request.headers.get("accept", "")
        media_type = "application/x-turtle" if "application/x-turtle" in accept else "text/turtle"
        return Response(turtle, media_type=media_type)


_EXAMPLE = f"""@prefix nif: <{NIF_NS}> .
<http://example.org/doc1#char=0,19> a nif:Context ; nif:isString "Paris is in France." ;
    nif:beginIndex "0"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> ;
    nif:endIndex "19"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> ."""
