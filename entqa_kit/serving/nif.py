"""NIF 2.0 in and out, with rdflib: the documents GERBIL sends and the same documents annotated.

A request holds one ``nif:Context`` per document (its text in ``nif:isString``) and, for D2KB, the
``nif:Phrase`` mentions to link (``nif:referenceContext``, ``nif:beginIndex``, ``nif:endIndex``). The
answer is the same graph with ``itsrdf:taIdentRef`` (and ``itsrdf:taConfidence``) on each phrase
linked; for A2KB new phrases ``<context>#char=start,end`` are added. Offsets count Unicode code
points, as NIF specifies (Python ``str`` offsets).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import LinkedDocument, LinkedSpan

NIF_NS = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
ITSRDF_NS = "http://www.w3.org/2005/11/its/rdf#"
TURTLE_TYPES = ("text/turtle", "application/x-turtle")


@dataclass
class NifPhrase:
    node: object
    start: int
    end: int


@dataclass
class NifContext:
    node: object
    text: str
    phrases: list[NifPhrase] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return str(self.node)

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return tuple(sorted({(p.start, p.end) for p in self.phrases}))


def namespaces():
    from rdflib import Namespace

    return Namespace(NIF_NS), Namespace(ITSRDF_NS)


def parse_nif(data: str):
    """``(graph, contexts)``: every context with its text and the phrases that refer to it."""
    from rdflib import Graph

    nif, _ = namespaces()
    graph = Graph()
    graph.bind("nif", nif)
    graph.bind("itsrdf", ITSRDF_NS)
    try:
        graph.parse(data=data, format="turtle")
    except Exception as exc:  # rdflib raises several parser exception types
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise EntQAError("E126", detail=detail) from None
    contexts = []
    for node in sorted(set(graph.subjects(nif.isString, None)), key=str):
        text = str(graph.value(node, nif.isString))
        context = NifContext(node, text)
        for phrase in sorted(set(graph.subjects(nif.referenceContext, node)), key=str):
            start, end = _offset(graph, phrase, nif.beginIndex), _offset(graph, phrase, nif.endIndex)
            if start is None or end is None or not 0 <= start < end <= len(text):
                raise EntQAError("E128", phrase=str(phrase), start=start, end=end, length=len(text))
            context.phrases.append(NifPhrase(phrase, start, end))
        contexts.append(context)
    if not contexts:
        raise EntQAError("E127")
    return graph, contexts


def _offset(graph, node, predicate) -> int | None:
    value = graph.value(node, predicate)
    try:
        return int(value.toPython()) if value is not None else None
    except (TypeError, ValueError):
        return None


def phrase_node(context_node, start: int, end: int):
    """``<base#char=start,end>`` for a context ``<base#char=0,n>``; a blank node for a blank context."""
    from rdflib import BNode, URIRef

    if isinstance(context_node, URIRef):
        return URIRef(f"{str(context_node).split('#', 1)[0]}#char={start},{end}")
    return BNode()


def annotate(graph, context: NifContext, linked: LinkedDocument, uri_of: Callable[[LinkedSpan], str]) -> None:
    """Add the linked mentions to ``graph``: on the given phrases (D2KB), else as new phrases (A2KB)."""
    from rdflib import RDF, XSD, Literal, URIRef

    nif, itsrdf = namespaces()
    given = defaultdict(list)
    for phrase in context.phrases:
        given[(phrase.start, phrase.end)].append(phrase.node)
    for mention in linked.mentions:
        nodes = given.get((mention.start, mention.end))
        if context.phrases and not nodes:
            continue  # D2KB: only the spans asked for
        if not nodes:
            node = phrase_node(context.node, mention.start, mention.end)
            nodes = [node]
            for kind in (nif.String, nif.RFC5147String, nif.Phrase):
                graph.add((node, RDF.type, kind))
            graph.add((node, nif.referenceContext, context.node))
            graph.add((node, nif.beginIndex, Literal(mention.start, datatype=XSD.nonNegativeInteger)))
            graph.add((node, nif.endIndex, Literal(mention.end, datatype=XSD.nonNegativeInteger)))
            graph.add((node, nif.anchorOf, Literal(mention.text, datatype=XSD.string)))
        for node in nodes:
            graph.add((node, itsrdf.taIdentRef, URIRef(uri_of(mention))))
            graph.add((node, itsrdf.taConfidence, Literal(mention.score, datatype=XSD.double)))


def context_triples(context_uri: str, text: str) -> list:
    """The triples of a ``nif:Context`` holding ``text`` (used to build requests and datasets)."""
    from rdflib import RDF, XSD, Literal, URIRef

    nif, _ = namespaces()
    node = URIRef(context_uri)
    return [
        (node, RDF.type, nif.Context),
        (node, RDF.type, nif.String),
        (node, RDF.type, nif.RFC5147String),
        (node, nif.isString, Literal(text, datatype=XSD.string)),
        (node, nif.beginIndex, Literal(0, datatype=XSD.nonNegativeInteger)),
        (node, nif.endIndex, Literal(len(text), datatype=XSD.nonNegativeInteger)),
    ]


def phrase_triples(context_uri: str, text: str, start: int, end: int, entity_uri: str | None = None) -> list:
    """The triples of a ``nif:Phrase`` of a context (with ``itsrdf:taIdentRef`` when given)."""
    from rdflib import RDF, XSD, Literal, URIRef

    nif, itsrdf = namespaces()
    context = URIRef(context_uri)
    node = phrase_node(context, start, end)
    triples = [(node, RDF.type, kind) for kind in (nif.String, nif.RFC5147String, nif.Phrase)] + [
        (node, nif.referenceContext, context),
        (node, nif.beginIndex, Literal(start, datatype=XSD.nonNegativeInteger)),
        (node, nif.endIndex, Literal(end, datatype=XSD.nonNegativeInteger)),
        (node, nif.anchorOf, Literal(text[start:end], datatype=XSD.string)),
    ]
    if entity_uri is not None:
        triples.append((node, itsrdf.taIdentRef, URIRef(entity_uri)))
    return triples


def new_graph():
    from rdflib import XSD, Graph

    nif, itsrdf = namespaces()
    graph = Graph()
    for prefix, namespace in (("nif", nif), ("itsrdf", itsrdf), ("xsd", XSD)):
        graph.bind(prefix, namespace)
    return graph


def read_annotations(data: str, uri_to_id: Callable[[str], str | None]):
    """Each context's text and its phrases ``(start, end, entity id or None, uri)``, from NIF Turtle.

    For reading an annotated answer or a NIF dataset's gold annotations back.
    """
    _, itsrdf = namespaces()
    graph, contexts = parse_nif(data)
    result = []
    for context in contexts:
        mentions = []
        for phrase in context.phrases:
            uris = sorted(str(u) for u in graph.objects(phrase.node, itsrdf.taIdentRef))
            for uri in uris or [None]:
                mentions.append((phrase.start, phrase.end, uri_to_id(uri) if uri else None, uri))
        result.append((context, sorted(mentions, key=lambda m: (m[0], m[1], str(m[3])))))
    return result
