"""`POST /admin/reload`: the server reads a changed index directory again without a restart
(split from test_serving.py; the same fake linker and tiny index)."""

from __future__ import annotations

import os
import shutil
import threading
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app as cli
from entqa_kit.core.config import LinkConfig
from entqa_kit.core.records import Entity
from entqa_kit.index.dense import DenseIndex
from entqa_kit.serving.app import create_app
from entqa_kit.serving.engine import LinkEngine, with_index, with_link_settings
from tests.conftest import client_for, error_of
from tests.fake_linker import Calls, FakeLinker

TestClient = pytest.importorskip("fastapi.testclient").TestClient
runner = CliRunner()


LISBON = Entity(id="N1", title="Lisbon", description="Capital of Portugal on the Tagus.", aliases=("Lisboa",))


@pytest.fixture
def index_copy(tmp_path, tiny_index):
    """A copy of the tiny index that a test may change under a running server."""
    copy = tmp_path / "idx"
    shutil.copytree(tiny_index, copy)
    return copy


@pytest.fixture
def changing(index_copy, tiny_encoder):
    """A client over a fake linker of ``index_copy`` (the index the tests change, then reload)."""
    with client_for(FakeLinker(DenseIndex.load(index_copy), tiny_encoder)) as test_client:
        yield test_client


def linked_ids(client, text: str, **settings) -> list[str]:
    response = client.post("/link", json={"texts": [text], **settings})
    assert response.status_code == 200, response.text
    return [m["entity"] for m in response.json()["documents"][0]["mentions"]]


def search_ids(client, text: str, k: int = 100) -> list[str]:
    response = client.post("/search", json={"text": text, "k": k})
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["hits"]]


def test_reload_serves_entities_added_on_disk(changing, index_copy, tiny_encoder):
    before = changing.get("/health").json()
    assert linked_ids(changing, "Lisbon and Berlin", top_k=3) == ["Q3"], "a variant made before the reload"
    assert error_of(changing.get("/entities/N1"))[:2] == (404, "E125")

    change = DenseIndex.load(index_copy).add([LISBON], encoder=tiny_encoder)  # another process, as it were
    assert change.added == 1
    assert error_of(changing.get("/entities/N1"))[:2] == (404, "E125"), "the server keeps the index it loaded"
    assert changing.get("/health").json()["kb_size"] == 20

    response = changing.post("/admin/reload")
    assert response.status_code == 200, response.text
    fingerprint = DenseIndex.load(index_copy).manifest.kb_fingerprint
    answer = response.json()
    assert answer.pop("seconds") >= 0
    assert answer == {
        "status": "reloaded",
        "index": str(index_copy),
        "kb_size": 21,
        "kb_fingerprint": fingerprint,
        "previous_kb_size": 20,
        "previous_kb_fingerprint": before["kb_fingerprint"],
    }
    assert fingerprint != before["kb_fingerprint"]
    assert changing.get("/entities/N1").json()["title"] == "Lisbon"
    health = changing.get("/health").json()
    assert (health["kb_size"], health["kb_fingerprint"]) == (21, fingerprint)
    assert "N1" in search_ids(changing, "Capital of Portugal")
    assert linked_ids(changing, "Lisbon and Berlin") == ["N1", "Q3"], "the linker reads the new KB"
    assert linked_ids(changing, "Lisbon and Berlin", top_k=3) == ["N1", "Q3"], "variants are made afresh"


def test_reload_after_remove_and_compact_never_returns_the_removed(changing, index_copy, tmp_path):
    assert "Q3" in search_ids(changing, "Capital of Germany")
    ids = tmp_path / "gone.txt"
    ids.write_text("Q3\nQ5\n")
    removed = runner.invoke(cli, ["index", "remove", str(index_copy), str(ids)])
    assert removed.exit_code == 0, removed.output
    assert "Q3" in search_ids(changing, "Capital of Germany"), "not reloaded yet"

    answer = changing.post("/admin/reload").json()
    assert (answer["kb_size"], answer["previous_kb_size"]) == (18, 20)
    for text in ("Capital of Germany", "Berlin", "Paris Hilton", "American media personality"):
        found = search_ids(changing, text)
        assert len(found) == 18 and not {"Q3", "Q5"} & set(found), text
    assert error_of(changing.get("/entities/Q3"))[:2] == (404, "E125")
    assert linked_ids(changing, "Paris Hilton visited Berlin.") == ["Q1"]

    compacted = runner.invoke(cli, ["index", "compact", str(index_copy), "--quiet"])
    assert compacted.exit_code == 0, compacted.output
    answer = changing.post("/admin/reload").json()
    assert (answer["kb_size"], answer["previous_kb_size"]) == (18, 18)
    assert answer["kb_fingerprint"] == answer["previous_kb_fingerprint"], "compacting keeps the KB"
    found = search_ids(changing, "Capital of Germany")
    assert len(found) == 18 and not {"Q3", "Q5"} & set(found)
    assert changing.get("/entities/Q17").json()["title"] == "Zürich", "rows renumbered, ids kept"


def _damage_manifest(directory, tmp_path, other_tiny_model):
    (directory / "manifest.json").write_text('{"dim": 32, "count": ')
    return "E035", "manifest.json is unreadable"


def _remove_vectors(directory, tmp_path, other_tiny_model):
    (directory / "vectors.f16").unlink()  # the server's mapping keeps the old file
    return "E035", "vectors.f16 is missing"


def _rebuild_with_another_model(directory, tmp_path, other_tiny_model):
    from entqa_kit.core.config import EncoderConfig
    from entqa_kit.index.build import build_index
    from entqa_kit.models.encoder import TextEncoder
    from tests.conftest import FIXTURES

    encoder = TextEncoder.load(
        EncoderConfig(model=str(other_tiny_model), pooling="mean", normalize=True, dtype="float32")
    )
    other = tmp_path / "other"
    build_index(FIXTURES / "kb_native.jsonl", other, encoder=encoder, quiet=True)
    for path in other.iterdir():  # new files in place (new inodes), as a rebuild writes them
        if path.is_file():
            os.replace(path, directory / path.name)
    return "E031", "index was built with a different entity encoder"


@pytest.mark.parametrize("damage", [_damage_manifest, _remove_vectors, _rebuild_with_another_model])
def test_a_failed_reload_keeps_serving_the_old_index(
    changing, index_copy, tmp_path, other_tiny_model, damage
):
    saved = tmp_path / "saved"
    shutil.copytree(index_copy, saved)
    code, detail = damage(index_copy, tmp_path, other_tiny_model)

    status, error_code, message = error_of(changing.post("/admin/reload"))
    assert (status, error_code) == (409, "E133")
    assert message.startswith(f"[E133] {index_copy}: cannot reload the index ([{code}] {index_copy}")
    assert detail in message
    assert message.endswith(
        "; the server goes on serving the index it had (20 entities): fix the index, "
        "then POST /admin/reload again"
    )
    assert changing.get("/health").json()["kb_size"] == 20
    assert linked_ids(changing, "Paris Hilton visited Berlin.") == ["Q5", "Q3"]
    assert len(search_ids(changing, "Capital of Germany")) == 20
    assert changing.get("/entities/Q17").status_code == 200

    for path in saved.iterdir():
        os.replace(path, index_copy / path.name)
    answer = changing.post("/admin/reload").json()
    assert (answer["status"], answer["kb_size"]) == ("reloaded", 20)


def test_a_reload_whose_linker_cannot_be_built_keeps_the_old_one(changing, monkeypatch):
    engine = changing.app.state.engine
    old = engine.linker

    def broken(index):
        raise RuntimeError("no memory left for a second linker")

    monkeypatch.setattr(old, "with_index", broken)
    status, code, message = error_of(changing.post("/admin/reload"))
    assert (status, code) == (409, "E133") and "(RuntimeError: no memory left for a second linker)" in message
    assert engine.linker is old and linked_ids(changing, "Tokyo") == ["Q19"]


def test_a_reload_waits_for_the_batch_in_flight_which_finishes_on_the_old_index(index_copy, tiny_encoder):
    calls = Calls(gate=threading.Event(), gate_text="WAIT")
    with client_for(FakeLinker(DenseIndex.load(index_copy), tiny_encoder, calls=calls)) as client:
        DenseIndex.load(index_copy).add([LISBON], encoder=tiny_encoder)
        answers = {}
        linking = threading.Thread(
            target=lambda: answers.update(link=client.post("/link", json={"texts": ["WAIT in Lisbon"]}))
        )
        linking.start()
        assert calls.entered.wait(10), "the link never reached the model"
        reloading = threading.Thread(target=lambda: answers.update(reload=client.post("/admin/reload")))
        reloading.start()
        reloading.join(0.5)
        assert reloading.is_alive(), "the reload waits for the batch in the worker thread"
        assert client.get("/health").json()["kb_size"] == 20
        calls.gate.set()
        linking.join(10)
        reloading.join(10)
        assert answers["link"].json()["documents"][0]["mentions"] == [], "linked over the old index"
        assert answers["reload"].json()["kb_size"] == 21
        assert linked_ids(client, "WAIT in Lisbon") == ["N1"]


class ConstructedLinker:
    """Takes the Linker constructor's arguments, as ``with_index`` builds a real Linker."""

    def __init__(
        self, retriever, passage_config, index, reader, config, reader_config=None, trained_slots=None
    ):
        self.retriever, self.passage_config, self.index = retriever, passage_config, index
        self.reader, self.config, self.reader_config = reader, config, reader_config
        self.reading = SimpleNamespace(trained_slots=trained_slots)


def test_with_index_shares_the_models_and_settings_and_keeps_the_trained_slots():
    models = {name: object() for name in ("retriever", "passages", "reader", "reader_config")}
    config = LinkConfig(threshold=0.3, test_k=4, quantize="int8")
    old = ConstructedLinker(
        models["retriever"],
        models["passages"],
        "old index",
        models["reader"],
        config,
        models["reader_config"],
        6,
    )
    new = with_index(old, "new index")
    assert new.index == "new index" and new.reading.trained_slots == 6
    shared = (new.retriever, new.passage_config, new.reader, new.reader_config)
    assert all(a is b for a, b in zip(shared, models.values()))
    assert (new.config.threshold, new.config.test_k) == (0.3, 4)
    assert new.config.quantize == "none", "the shared reader is quantised already"
    variant = with_link_settings(new, test_k=2, threshold=0.9)
    assert (variant.index, variant.reading.trained_slots, variant.config.test_k) == ("new index", 6, 2)


@pytest.mark.slow
def test_reload_with_the_shipped_model_links_added_and_never_removed_entities(default_model_index, tmp_path):
    """The real Linker over the shipped model: its entity-wordpiece cache and name matcher follow the
    reloaded KB (through add, remove and compact, which renumbers the rows)."""
    from entqa_kit.linking.linker import Linker

    copy = tmp_path / "idx"
    shutil.copytree(default_model_index, copy)
    text = "Lisbon is the capital of Portugal, and Berlin is the capital of Germany."
    engine = LinkEngine.load(copy)
    with TestClient(create_app(engine)) as client:
        assert "N1" not in linked_ids(client, text)
        old = engine.linker
        DenseIndex.load(copy).add([LISBON])
        assert client.post("/admin/reload").json()["kb_size"] == 21
        assert engine.linker is not old and engine.linker.reader is old.reader
        assert engine.linker.retriever is old.retriever
        assert engine.linker.entity_tokens is not old.entity_tokens
        found = client.post("/link", json={"texts": [text]}).json()["documents"][0]["mentions"]
        assert ("Lisbon", "N1", "Lisbon") in {(m["text"], m["entity"], m["title"]) for m in found}

        (tmp_path / "gone.txt").write_text("N1\nQ1\n")
        DenseIndex.load(copy).remove(tmp_path / "gone.txt")
        DenseIndex.load(copy).compact()
        assert client.post("/admin/reload").json()["kb_size"] == 19
        for top_k in (None, 3):
            found = client.post("/link", json={"texts": [text], "top_k": top_k}).json()["documents"][0]
            assert not {"N1", "Q1"} & {m["entity"] for m in found["mentions"]}
            restarted = Linker.from_pretrained(index_dir=copy, top_k=top_k).link([text])[0]
            assert found["mentions"] == [m.model_dump() for m in restarted.mentions], "as after a restart"
