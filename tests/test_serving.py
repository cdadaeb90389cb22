"""The HTTP API (`entqa-kit serve`): every endpoint and error path, micro-batching, a real uvicorn run.

Most tests run the app in process (FastAPI's TestClient) over the tiny index with a fake linker
(tests/fake_linker.py); one starts `entqa-kit serve` with the shipped model on a loopback port.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app as cli
from entqa_kit.core.records import Document
from entqa_kit.index.dense import DenseIndex
from entqa_kit.serving.app import create_app
from entqa_kit.serving.engine import LinkEngine
from tests.conftest import client_for, error_of
from tests.fake_linker import BatchingFakeLinker, Calls, FakeLinker

TestClient = pytest.importorskip("fastapi.testclient").TestClient
runner = CliRunner()


@pytest.fixture
def index(tiny_index):
    return DenseIndex.load(tiny_index)


@pytest.fixture
def fake(index, tiny_encoder):
    return FakeLinker(index, tiny_encoder)


@pytest.fixture
def client(fake):
    with client_for(fake) as test_client:
        yield test_client


def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_link_documents_returns_prediction_records(client):
    response = client.post("/link", json={"documents": [{"id": "a", "text": "Paris Hilton visited Berlin."}]})
    assert response.status_code == 200
    assert response.json() == {
        "documents": [
            {
                "id": "a",
                "mentions": [
                    {
                        "start": 0,
                        "end": 12,
                        "text": "Paris Hilton",
                        "entity": "Q5",
                        "title": "Paris Hilton",
                        "score": 0.99,
                    },
                    {
                        "start": 21,
                        "end": 27,
                        "text": "Berlin",
                        "entity": "Q3",
                        "title": "Berlin",
                        "score": 0.7,
                    },
                ],
            }
        ]
    }


def test_texts_get_their_positions_as_ids(client):
    response = client.post("/link", json={"texts": ["Tokyo.", "Nothing here.", "Asthma"]})
    documents = response.json()["documents"]
    assert [d["id"] for d in documents] == ["0", "1", "2"]
    assert [[m["entity"] for m in d["mentions"]] for d in documents] == [["Q19"], [], ["Q10"]]


def test_per_request_top_k_and_threshold_reach_the_linker(client, fake):
    response = client.post("/link", json={"texts": ["Paris Hilton and Berlin"], "top_k": 3, "threshold": 0.8})
    assert [m["entity"] for m in response.json()["documents"][0]["mentions"]] == ["Q5"]
    assert fake.calls.documents[-1] == ("0", 3, 0.8, None)
    client.post("/link", json={"texts": ["Berlin"]})
    assert fake.calls.documents[-1] == ("0", 8, 0.5, None), "the next request links with the model's settings"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"texts": ["x"], "top_k": 101}, "top_k must be at most 100, got 101"),
        ({"texts": ["x"], "top_k": 0}, "top_k: Input should be greater than or equal to 1"),
        ({"texts": ["x"], "threshold": 1.5}, "threshold: Input should be less than or equal to 1"),
        ({"texts": ["x"], "documents": [{"text": "y"}]}, "give exactly one of 'documents' and 'texts'"),
        ({}, "give exactly one of 'documents' and 'texts'"),
        ({"documents": [{"id": "a"}]}, "documents[0].text: Field required"),
        ({"texts": "Paris"}, "texts: Input should be a valid list"),
        ({"texts": ["x"], "colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_requests_are_422_with_the_coded_message(client, body, message):
    expected = f"[E124] invalid request: {message}; see the request schema at /docs"
    assert error_of(client.post("/link", json=body)) == (422, "E124", expected)


def test_too_many_documents_is_413(fake):
    with client_for(fake, max_docs=2) as client:
        response = client.post("/link", json={"texts": ["a", "b", "c"]})
    message = (
        "[E121] request has 3 documents, over the limit of 2 (--max-docs); split it into several requests"
    )
    assert error_of(response) == (413, "E121", message)
    assert fake.calls.documents == [], "nothing was linked"


def test_a_document_over_max_chars_is_413(fake):
    with client_for(fake, max_chars=10) as client:
        response = client.post("/link", json={"documents": [{"id": "long", "text": "Paris " * 5}]})
    message = (
        "[E062] request: document 'long' has 30 characters, over --max-chars 10; split it or raise the limit"
    )
    assert error_of(response) == (413, "E062", message)


def test_an_empty_document_is_422(client):
    response = client.post("/link", json={"documents": [{"id": "e", "text": " \n"}]})
    assert error_of(response) == (422, "E061", "[E061] request: document 'e' is empty; nothing to link")


def test_a_body_over_the_limit_is_413_with_or_without_content_length(fake):
    message = (
        "[E120] request body is over the limit of 100 bytes (--max-body-bytes); "
        "send less per request or raise the limit"
    )
    body = json.dumps({"texts": ["Paris " * 30]}).encode()
    with client_for(fake, max_body_bytes=100) as client:
        declared = client.post("/link", content=body, headers={"content-type": "application/json"})
        streamed = client.post(
            "/link", content=iter([body[:60], body[60:]]), headers={"content-type": "application/json"}
        )
        assert client.post("/link", json={"texts": ["Paris"]}).status_code == 200
    assert error_of(declared) == (413, "E120", message)
    assert "content-length" not in streamed.request.headers
    assert error_of(streamed) == (413, "E120", message)


def test_malformed_json_is_400(client):
    response = client.post(
        "/link", content=b'{"texts": ["Paris"', headers={"content-type": "application/json"}
    )
    message = (
        "[E122] request body is not valid JSON (Expecting ',' delimiter at character 18); "
        "send one JSON object"
    )
    assert error_of(response) == (400, "E122", message)


def test_invalid_utf8_is_400(client):
    response = client.post(
        "/link", content=b'{"texts": ["Z\xfcrich"]}', headers={"content-type": "application/json"}
    )
    message = "[E123] request body is not valid UTF-8 (byte 0xfc at offset 13); encode the body as UTF-8"
    assert error_of(response) == (400, "E123", message)


def test_search_answers_as_the_search_command_does(client, tiny_index):
    response = client.post("/search", json={"text": "capital of Germany", "k": 5})
    printed = runner.invoke(cli, ["search", str(tiny_index), "capital of Germany", "-k", "5", "--json"])
    assert printed.exit_code == 0, printed.output
    hits = response.json()["hits"]
    assert len(hits) == 5 and [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert [{k: h[k] for k in ("id", "title", "score")} for h in hits] == json.loads(printed.stdout)


def test_search_limits(client):
    assert error_of(client.post("/search", json={"text": "x", "k": 101}))[:2] == (422, "E124")
    expected = (
        "[E124] invalid request: text: String should have at least 1 character; "
        "see the request schema at /docs"
    )
    assert error_of(client.post("/search", json={"text": ""})) == (422, "E124", expected)


def test_entities_by_id_and_unknown_id_is_404(client):
    found = client.get("/entities/Q17").json()
    assert found == {
        "id": "Q17",
        "title": "Zürich",
        "description": "Largest city in Switzerland.",
        "aliases": ["Zurich"],
        "types": ["city"],
        "alt_ids": [],
    }
    message = "[E125] unknown entity id 'Q999/x'; use an id of the index's KB (POST /search finds them)"
    assert error_of(client.get("/entities/Q999/x")) == (404, "E125", message)


def test_health_reports_model_index_and_kb(client, tiny_index, index):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model"] == "fake-model"
    assert health["index"] == str(tiny_index) and health["kb_size"] == 20
    assert health["kb_fingerprint"] == index.manifest.kb_fingerprint
    assert (health["threshold"], health["top_k"], health["version"]) == (0.5, 8, "0.1.0")


def test_health_answers_while_a_link_is_running(index):
    calls = Calls(gate=threading.Event())
    with client_for(FakeLinker(index, calls=calls)) as client:
        results = {}
        worker = threading.Thread(
            target=lambda: results.update(r=client.post("/link", json={"texts": ["Paris"]}))
        )
        worker.start()
        assert calls.entered.wait(10), "the link never reached the model"
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["documents_linked"] == 0
        calls.gate.set()
        worker.join(10)
    assert results["r"].status_code == 200


def test_concurrent_requests_share_batches(index):
    """While the model reads one batch, the next seven requests queue up and are read as one batch."""
    calls = Calls(gate=threading.Event())
    with client_for(BatchingFakeLinker(index, calls=calls), max_batch=16, batch_window_ms=0) as client:
        engine, batcher = client.app.state.engine, client.app.state.batcher
        responses = {}

        def post(i: int) -> None:
            responses[i] = client.post("/link", json={"documents": [{"id": f"d{i}", "text": "Berlin"}]})

        threads = [threading.Thread(target=post, args=(0,))]
        threads[0].start()
        assert calls.entered.wait(10)
        threads += [threading.Thread(target=post, args=(i,)) for i in range(1, 8)]
        for thread in threads[1:]:
            thread.start()
        wait_until(lambda: batcher.queued == 7)
        calls.gate.set()
        for thread in threads:
            thread.join(10)
    assert sorted(responses) == list(range(8))
    assert all(
        r.status_code == 200 and r.json()["documents"][0]["id"] == f"d{i}" for i, r in responses.items()
    )
    assert batcher.batch_sizes == [1, 7] and engine.batches == 2
    assert calls.batches == [7], "the seven queued documents were linked in one linker call"


def test_a_document_is_answered_when_it_is_linked_not_when_its_batch_ends(index):
    calls = Calls(gate=threading.Event(), gate_text="WAIT")
    with client_for(FakeLinker(index, calls=calls), batch_window_ms=2000) as client:
        batcher = client.app.state.batcher
        answers = {}
        quick = threading.Thread(
            target=lambda: answers.update(quick=client.post("/link", json={"texts": ["Berlin"]}))
        )
        slow = threading.Thread(
            target=lambda: answers.update(slow=client.post("/link", json={"texts": ["WAIT"]}))
        )
        quick.start()
        wait_until(lambda: batcher.queued == 1)
        slow.start()
        quick.join(10)
        assert not quick.is_alive() and answers["quick"].status_code == 200
        assert "slow" not in answers and batcher.batch_sizes == [2], "both documents are in one batch"
        calls.gate.set()
        slow.join(10)
    assert answers["slow"].status_code == 200


def test_max_batch_caps_a_batch(index):
    calls = Calls(gate=threading.Event())
    with client_for(FakeLinker(index, calls=calls), max_batch=3, batch_window_ms=0) as client:
        batcher = client.app.state.batcher
        first = threading.Thread(target=lambda: client.post("/link", json={"texts": ["a"]}))
        first.start()
        assert calls.entered.wait(10)
        rest = threading.Thread(target=lambda: client.post("/link", json={"texts": list("bcdefgh")}))
        rest.start()
        wait_until(lambda: batcher.queued == 7)
        calls.gate.set()
        first.join(10)
        rest.join(10)
    assert batcher.batch_sizes == [1, 3, 3, 1]


def test_a_full_queue_answers_503(index):
    calls = Calls(gate=threading.Event())
    with client_for(FakeLinker(index, calls=calls), max_queue=2, batch_window_ms=0) as client:
        first = threading.Thread(target=lambda: client.post("/link", json={"texts": ["a"]}))
        first.start()
        assert calls.entered.wait(10)
        response = client.post("/link", json={"texts": ["b", "c", "d"]})
        calls.gate.set()
        first.join(10)
    message = "[E130] server busy: 0 documents are queued (limit 2, --max-queue); retry later"
    assert error_of(response) == (503, "E130", message)


def test_a_model_failure_is_500_without_traceback_and_the_server_keeps_serving(client, caplog):
    with caplog.at_level(logging.INFO, logger="entqa_kit.serving"):
        response = client.post("/link", json={"texts": ["Paris", "BOOM"]})
    status, code, message = error_of(response)
    assert (status, code) == (500, "E131")
    assert (
        message.startswith("[E131] internal error while serving request #") and "secret" not in response.text
    )
    assert "Traceback" not in response.text
    (line,) = [r.getMessage() for r in caplog.records if "POST /link" in r.getMessage()]
    assert " 500 " in line and "E131" in line and "RuntimeError: the model exploded" in line
    assert client.post("/link", json={"texts": ["Paris"]}).status_code == 200


def test_the_log_has_one_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="entqa_kit.serving"):
        client.post("/link", json={"texts": ["Paris"]})
        client.get("/entities/nope")
        client.get("/health")
    lines = [r.getMessage() for r in caplog.records if r.name == "entqa_kit.serving"]
    assert len(lines) == 3
    assert " POST /link 200 " in lines[0] and " GET /entities/nope 404 " in lines[1] and "E125" in lines[1]
    assert " GET /health 200 " in lines[2]


def test_unknown_route_is_a_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.json() == {
        "error": {"code": None, "message": "Not Found"}
    }


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/link", "/search", "/entities/{entity_id}", "/health", "/gerbil", "/admin/reload"}
    assert "LinkRequest" in json.dumps(paths["/link"]) and "text/turtle" in json.dumps(paths["/gerbil"])
    assert client.get("/docs").status_code == 200


def test_graceful_shutdown_finishes_the_request_in_flight(index):
    """uvicorn's shutdown (SIGINT/SIGTERM set should_exit) waits for the request the model is reading."""
    import httpx
    import uvicorn

    calls = Calls(gate=threading.Event())
    config = uvicorn.Config(
        create_app(LinkEngine(FakeLinker(index, calls=calls), "fake")),
        host="127.0.0.1",
        port=0,
        log_level="error",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    result = {}
    request = threading.Thread(
        target=lambda: result.update(
            r=httpx.post(f"http://127.0.0.1:{port}/link", json={"texts": ["Berlin"]}, timeout=20)
        )
    )
    request.start()
    assert calls.entered.wait(10)
    server.should_exit = True
    time.sleep(0.2)
    calls.gate.set()
    request.join(20)
    thread.join(20)
    assert not thread.is_alive()
    assert (
        result["r"].status_code == 200 and result["r"].json()["documents"][0]["mentions"][0]["entity"] == "Q3"
    )


def test_serve_refuses_a_bad_uri_template_before_loading(tmp_path):
    result = runner.invoke(cli, ["serve", "--index", str(tmp_path), "--uri-template", "http://x.org/{name}"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: [E041] --uri-template must be a URI holding exactly one of the fields id or title in braces, "
        "got 'http://x.org/{name}'; fix the value"
    )


@pytest.mark.slow
@pytest.mark.default_slow
def test_entqa_kit_serve_links_over_http_and_stops_on_sigint(default_model_index):
    """`entqa-kit serve` on a free loopback port with the shipped model: link, then Ctrl-C (~10-20 s)."""
    import httpx

    from entqa_kit.serving.launch import running_server

    text = "Paris Hilton flew from Tokyo to Berlin, the capital of Germany."
    with running_server(default_model_index, start_timeout=60) as server:
        health = httpx.get(f"{server.url}/health").json()
        assert health["kb_size"] == 20 and health["model"].endswith("default_model")
        response = httpx.post(
            f"{server.url}/link", json={"documents": [{"id": "d", "text": text}]}, timeout=60
        )
        assert response.status_code == 200
        (document,) = response.json()["documents"]
        assert document["id"] == "d" and document["mentions"], document
        for mention in document["mentions"]:
            assert text[mention["start"] : mention["end"]] == mention["text"]
            assert httpx.get(f"{server.url}/entities/{mention['entity']}").json()["title"] == mention["title"]
    assert server.process.returncode == 0, server.log()
    log = server.log()
    requests = [line for line in log.splitlines() if " /link " in line or " /entities/" in line]
    assert len(requests) == 1 + len(document["mentions"]) and " POST /link 200 " in requests[0]
    assert "Traceback" not in log


def test_freed_heap_memory_is_handed_back_after_each_batch(monkeypatch, fake):
    import platform

    from entqa_kit.serving import engine as engine_module
    from entqa_kit.serving.memory import release_free_memory

    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")
    calls = []
    monkeypatch.setattr(engine_module, "release_free_memory", lambda: calls.append(1) or True)
    engine = engine_module.LinkEngine(fake, "fake")
    engine.link_batch([engine_module.LinkJob(Document(id="a", text="Paris and Berlin."))])
    assert calls == [1]
