"""POST /gerbil: NIF 2.0 Turtle in and out (A2KB and D2KB), entity URIs, and its bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entqa_kit.index.dense import DenseIndex
from entqa_kit.serving.app import create_app
from entqa_kit.serving.engine import LinkEngine
from entqa_kit.serving.nif import context_triples, new_graph, phrase_triples, read_annotations
from entqa_kit.serving.settings import ServeSettings
from entqa_kit.serving.uris import EntityUris
from tests.fake_linker import FakeLinker, OracleLinker, SpanlessFakeLinker

TestClient = pytest.importorskip("fastapi.testclient").TestClient
TURTLE = {"content-type": "application/x-turtle"}
TEXT = "Paris Hilton visited Zürich and Berlin."
CONTEXT = "http://example.org/doc/1#char=0,39"


def nif_request(text: str, context: str = CONTEXT, spans=()) -> str:
    graph = new_graph()
    for triple in context_triples(context, text):
        graph.add(triple)
    for start, end in spans:
        for triple in phrase_triples(context, text, start, end):
            graph.add(triple)
    return graph.serialize(format="turtle")


def client_for(linker, **settings) -> TestClient:
    return TestClient(create_app(LinkEngine(linker, "fake"), ServeSettings(**settings)))


@pytest.fixture
def index(tiny_index):
    return DenseIndex.load(tiny_index)


@pytest.fixture
def client(index):
    with client_for(FakeLinker(index)) as test_client:
        yield test_client


def annotations(turtle: str, uris: EntityUris, index):
    return read_annotations(turtle, lambda uri: uris.entity_id(uri, index.kb))


def test_a2kb_adds_one_phrase_per_mention_with_its_uri(client, index):
    response = client.post(
        "/gerbil", content=nif_request(TEXT), headers=TURTLE | {"accept": "application/x-turtle"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-turtle")
    ((context, mentions),) = annotations(response.text, EntityUris("urn:entqa:{id}"), index)
    assert str(context.node) == CONTEXT and context.text == TEXT
    assert mentions == [
        (0, 12, "Q5", "urn:entqa:Q5"),
        (21, 27, "Q17", "urn:entqa:Q17"),
        (32, 38, "Q3", "urn:entqa:Q3"),
    ]
    assert "<http://example.org/doc/1#char=21,27>" in response.text
    assert 'nif:anchorOf "Zürich"^^xsd:string' in response.text


def test_d2kb_links_exactly_the_given_phrases(client, index):
    spans = [(0, 5), (21, 27), (13, 20)]  # "Paris", "Zürich", "visited" (no entity)
    response = client.post("/gerbil", content=nif_request(TEXT, spans=spans), headers=TURTLE)
    assert response.status_code == 200
    ((_, mentions),) = annotations(response.text, EntityUris("urn:entqa:{id}"), index)
    assert mentions == [(0, 5, "Q1", "urn:entqa:Q1"), (13, 20, None, None), (21, 27, "Q17", "urn:entqa:Q17")]
    assert "#char=32,38" not in response.text, "no phrase was added for Berlin"


def test_d2kb_passes_the_spans_to_the_linker(index):
    linker = FakeLinker(index)
    with client_for(linker) as client:
        client.post("/gerbil", content=nif_request(TEXT, spans=[(21, 27), (0, 5)]), headers=TURTLE)
    assert linker.calls.documents == [(CONTEXT, 8, 0.5, [(0, 5), (21, 27)])]


def test_d2kb_without_a_span_linker_is_501(index):
    with client_for(SpanlessFakeLinker(index)) as client:
        response = client.post("/gerbil", content=nif_request(TEXT, spans=[(0, 5)]), headers=TURTLE)
        a2kb = client.post("/gerbil", content=nif_request(TEXT), headers=TURTLE)
    message = (
        "[E129] this linker cannot link given spans (D2KB needs Linker.link_document(..., mentions=...)); "
        "update entqa-kit or use A2KB (send no phrases)"
    )
    assert (response.status_code, response.json()["error"]["message"]) == (501, message)
    assert a2kb.status_code == 200


def test_the_real_linker_takes_given_spans():
    import inspect

    from entqa_kit.linking.linker import Linker

    assert "mentions" in inspect.signature(Linker.link_document).parameters


def test_uris_for_a_kilt_kb_are_dbpedia_titles_and_read_back(tmp_path, tiny_encoder):
    from entqa_kit.index.build import build_index
    from tests.conftest import FIXTURES

    build_index(FIXTURES / "kb_kilt.jsonl", tmp_path / "idx", encoder=tiny_encoder, quiet=True)
    index = DenseIndex.load(tmp_path / "idx")
    with client_for(FakeLinker(index)) as client:
        response = client.post("/gerbil", content=nif_request("Paris and Berlin."), headers=TURTLE)
    uris = EntityUris.for_kb(index.manifest.kb_format)
    ((_, mentions),) = annotations(response.text, uris, index)
    assert [(m[0], m[1], m[3]) for m in mentions] == [
        (0, 5, "http://dbpedia.org/resource/Paris"),
        (10, 16, "http://dbpedia.org/resource/Berlin"),
    ]
    assert [m[2] for m in mentions] == ["0", "2"], "the URIs read back to the KB ids"


def test_uri_templates():
    assert EntityUris.for_kb("kilt").uri("9", "Manchester United F.C.") == (
        "http://dbpedia.org/resource/Manchester_United_F.C."
    )
    assert EntityUris.for_kb("kilt").uri("9", 'A "B" {x}') == "http://dbpedia.org/resource/A_%22B%22_%7Bx%7D"
    assert EntityUris.for_kb("umls", prefix="https://kb.example/").uri("MESH:D001", "t") == (
        "https://kb.example/MESH:D001"
    )
    assert EntityUris.for_kb("jsonl").uri("Q1", "Paris") == "urn:entqa:Q1"
    assert (
        EntityUris.for_kb("jsonl", template="https://x.org/e/{id}.html").uri("Q1", "P")
        == "https://x.org/e/Q1.html"
    )


def test_a_configured_uri_prefix_is_used(index):
    with client_for(FakeLinker(index), uri_prefix="https://kb.example/entity/") as client:
        response = client.post("/gerbil", content=nif_request("Berlin"), headers=TURTLE)
    assert "itsrdf:taIdentRef <https://kb.example/entity/Q3>" in response.text


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            "<a> <b> .",
            400,
            "[E126] NIF request is not valid Turtle (",
        ),
        (
            "<http://x.org/a> <http://x.org/b> <http://x.org/c> .",
            400,
            "[E127] NIF request has no nif:Context with a nif:isString; send the document as a nif:Context",
        ),
    ],
)
def test_bad_nif_is_400(client, body, status, message):
    response = client.post("/gerbil", content=body, headers=TURTLE)
    assert response.status_code == status and response.json()["error"]["message"].startswith(message)


def test_phrase_offsets_outside_the_text_are_400(client):
    request = nif_request("Berlin", context="http://x.org/d#char=0,6")
    request += (
        "\n<http://x.org/d#char=2,40> <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#referenceContext>"
        " <http://x.org/d#char=0,6> ;\n"
        ' <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#beginIndex> "2" ;\n'
        ' <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#endIndex> "40" .\n'
    )
    response = client.post("/gerbil", content=request, headers=TURTLE)
    message = (
        "[E128] NIF phrase http://x.org/d#char=2,40 has offsets [2, 40) outside its context (length 6); "
        "fix its nif:beginIndex and nif:endIndex"
    )
    assert (response.status_code, response.json()["error"]["message"]) == (400, message)


def test_json_is_415(client):
    response = client.post("/gerbil", json={"text": "Berlin"})
    message = (
        "[E132] unsupported Content-Type 'application/json' for /gerbil; "
        "send NIF as text/turtle or application/x-turtle"
    )
    assert (response.status_code, response.json()["error"]["message"]) == (415, message)


def test_a_document_over_max_chars_is_413(index):
    with client_for(FakeLinker(index), max_chars=10) as client:
        response = client.post("/gerbil", content=nif_request(TEXT), headers=TURTLE)
    assert response.status_code == 413 and response.json()["error"]["code"] == "E062"


@pytest.fixture
def first_aida_b(shared_data, tmp_path_factory, tiny_encoder):
    """The first AIDA-B document, and an index of a KILT KB holding its gold entities."""
    from entqa_kit.documents.aida import read_aida
    from entqa_kit.index.build import build_index

    document = read_aida(shared_data / "aida" / "AIDA-YAGO2-dataset.tsv", split="testb").documents[0]
    titles = {m.label.replace("_", " ") for m in document.mentions if m.label != "--NME--"}
    tmp = tmp_path_factory.mktemp("aida-b-kb")
    with (shared_data / "kb" / "wiki_kb.kilt.jsonl").open(encoding="utf-8") as kb:
        rows = [line for line in kb if json.loads(line)["wikipedia_title"] in titles]
    Path(tmp / "kb.jsonl").write_text("".join(rows), encoding="utf-8")
    build_index(tmp / "kb.jsonl", tmp / "idx", encoder=tiny_encoder, quiet=True)
    return document, DenseIndex.load(tmp / "idx")


@pytest.mark.data
def test_the_first_aida_b_document_round_trips_with_its_offsets_and_wikipedia_uris(first_aida_b):
    document, index = first_aida_b
    assert document.id.startswith("1163testb") and document.text.startswith("SOCCER - JAPAN GET LUCKY WIN")
    in_kb = [m for m in document.mentions if index.kb.rows_by_title(m.label)]
    assert len(in_kb) >= 10
    gold = [(m.start, m.end, index.kb.by_row(index.kb.rows_by_title(m.label)[0]).id) for m in in_kb]
    spans = [(m.start, m.end) for m in document.mentions]
    context = f"http://aida.example/{document.id.split()[0]}#char=0,{len(document.text)}"
    uris = EntityUris.for_kb(index.manifest.kb_format)
    with client_for(OracleLinker(index, {document.text: gold})) as client:
        a2kb = client.post("/gerbil", content=nif_request(document.text, context), headers=TURTLE)
        d2kb = client.post("/gerbil", content=nif_request(document.text, context, spans), headers=TURTLE)
    expected = sorted(
        (m.start, m.end, f"http://dbpedia.org/resource/{m.label}") for m in in_kb
    )  # AIDA's own Wikipedia titles
    for response in (a2kb, d2kb):
        assert response.status_code == 200
        ((context_read, mentions),) = annotations(response.text, uris, index)
        assert context_read.text == document.text
        assert sorted((s, e, u) for s, e, _, u in mentions if u) == expected
        for start, end, _, _ in mentions:
            phrase = f"<{context.split('#')[0]}#char={start},{end}>"
            assert phrase in response.text and document.text[start:end].strip() == document.text[start:end]
    ((_, d2kb_mentions),) = annotations(d2kb.text, uris, index)
    assert sorted({(s, e) for s, e, _, _ in d2kb_mentions}) == sorted(set(spans)), (
        "every given phrase is back"
    )
