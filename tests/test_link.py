"""End-to-end linking with a tiny random model trained on the toy KB, and `entqa-kit link`'s bad inputs."""

import json

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.documents import load_documents
from entqa_kit.linking.linker import Linker
from entqa_kit.training.reader_stage import train_reader
from entqa_kit.training.recipes import load_recipe
from entqa_kit.training.retriever_stage import train_retriever
from tests.conftest import FIXTURES

runner = CliRunner()


@pytest.fixture(scope="module")
def linker(toy_model):
    return Linker.from_pretrained(toy_model[1], toy_model[0])


def test_a_trained_toy_model_links_documents_end_to_end(linker):
    documents = load_documents(FIXTURES / "docs_toy.jsonl", linker.index.kb).documents
    predictions = linker.link(documents)
    gold = {(d.id, m.start, m.end, m.entities[0]) for d in documents for m in d.mentions if m.in_kb}
    predicted = {(p.id, m.start, m.end, m.entity) for p in predictions for m in p.mentions}
    correct = len(gold & predicted)
    assert correct / len(predicted) >= 0.6 and correct / len(gold) >= 0.5, (
        correct,
        len(predicted),
        len(gold),
    )
    multi = next(p for p in predictions if p.id == "multi")
    assert ("Paris Hilton", "Q5") in {(m.text, m.entity) for m in multi.mentions}


def test_predicted_offsets_are_exact_on_unicode_text(toy_model):
    model, index = toy_model
    low = Linker.from_pretrained(index_dir=index, model_dir=model, threshold=0.001)  # links plenty
    text = "Zürich und São Paulo: 東京 was discussed at length by the committee. Zürich again."
    (linked,) = low.link([text])
    assert any(m.start > text.index("東京") for m in linked.mentions), "spans after the multi-byte text"
    for mention in linked.mentions:
        assert text[mention.start : mention.end] == mention.text
        assert mention.text == mention.text.strip()


def test_threshold_one_links_nothing(toy_model):
    strict = Linker.from_pretrained(toy_model[1], toy_model[0], threshold=1.0)
    assert strict.link(["Yesterday we read about Paris in the news."])[0].mentions == []


def link_cli(toy_model, *args, input=None):
    model, index = toy_model
    return runner.invoke(
        app, ["link", *args, "--index", str(index), "--model", str(model), "-q"], input=input
    )


def test_link_cli_writes_predictions_jsonl(tmp_path, toy_model):
    (tmp_path / "a.txt").write_text("Yesterday we read about Paris in the news.", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "b1", "text": "The guide mentioned Tokyo twice."}) + "\n"
    )
    out = tmp_path / "pred.jsonl"
    result = link_cli(toy_model, str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a.txt", "b1"]
    for row in rows:
        for mention in row["mentions"]:
            assert set(mention) == {"start", "end", "text", "entity", "title", "score"}
    assert not (tmp_path / "pred.jsonl.partial").exists()


def test_link_cli_reads_stdin(toy_model):
    result = link_cli(toy_model, "-", "--json", input="Yesterday we read about Paris in the news.")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "stdin"


def test_bad_documents_are_reported_skipped_and_fail_the_run(tmp_path, toy_model):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "1_good.txt").write_text("The guide mentioned Tokyo twice.", encoding="utf-8")
    (docs / "2_empty.txt").write_text("   \n")
    (docs / "3_latin1.txt").write_bytes(b"Caf\xe9 in Paris.\n")
    (docs / "4_long.txt").write_text("Paris " * 50)
    (docs / "5_lines.jsonl").write_text('{"id": "ok", "text": "Paris Hilton."}\n{broken\n{"id": "x"}\n')
    out = tmp_path / "pred.jsonl"
    result = link_cli(toy_model, str(docs), "--out", str(out), "--max-chars", "100")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        errors[0] == f"error: [E061] {docs / '2_empty.txt'}: document '2_empty.txt' is empty; nothing to link"
    )
    assert errors[1].startswith(f"error: [E003] {docs / '3_latin1.txt'}:1: not valid UTF-8")
    assert errors[2].startswith(
        f"error: [E062] {docs / '4_long.txt'}: document '4_long.txt' has 300 characters"
    )
    assert errors[3].startswith(f"error: [E004] {docs / '5_lines.jsonl'}:2: malformed JSON")
    assert errors[4].startswith(f"error: [E050] {docs / '5_lines.jsonl'}:3: document has no 'text'")
    assert errors[5] == (
        "error: [E060] 5 of 7 documents failed and were skipped (listed above); fix them and link those again"
    )
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1_good.txt", "ok"]


def test_missing_input_path(tmp_path, toy_model):
    result = link_cli(toy_model, str(tmp_path / "nope.txt"))
    assert result.exit_code == 1 and "[E001]" in result.output


def test_model_without_a_reader_is_refused(tmp_path, toy_model):
    import shutil

    model, index = toy_model
    retriever_only = tmp_path / "retriever-only"
    shutil.copytree(model, retriever_only, ignore=shutil.ignore_patterns("reader"))
    config = json.loads((retriever_only / "entqa_config.json").read_text())
    config["reader"] = None
    (retriever_only / "entqa_config.json").write_text(json.dumps(config))
    result = runner.invoke(
        app, ["link", "-", "--index", str(index), "--model", str(retriever_only)], input="x"
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E042] {retriever_only}: the model has no trained reader")


def test_evaluate_linking_from_model_and_from_predictions(tmp_path, toy_model):
    model, index = toy_model
    data = str(FIXTURES / "docs_toy.jsonl")
    direct = runner.invoke(
        app,
        [
            "evaluate",
            data,
            "--index",
            str(index),
            "--model",
            str(model),
            "-q",
            "--json",
            "--errors",
            str(tmp_path / "errors.jsonl"),
        ],
    )
    assert direct.exit_code == 0, direct.output
    scores = json.loads(direct.stdout)
    assert set(scores) >= {"precision", "recall", "f1", "md_f1", "num_docs", "num_gold", "num_pred"}
    assert scores["num_docs"] == 41 and scores["num_gold"] == 43 and scores["f1"] > 40
    errors = [json.loads(line) for line in (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert {e["kind"] for e in errors} <= {"false_positive", "false_negative"}
    assert sum(e["kind"] == "false_negative" for e in errors) == scores["num_gold"] - round(
        scores["recall"] * scores["num_gold"] / 100
    )
    out = tmp_path / "pred.jsonl"
    assert link_cli(toy_model, data, "--out", str(out)).exit_code == 0
    scored = runner.invoke(
        app, ["evaluate", data, "--index", str(index), "--predictions", str(out), "-q", "--json"]
    )
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout) == {k: v for k, v in scores.items() if k != "recall_at"}
    assert scores["recall_at"]["3"] <= scores["recall_at"]["10"], (
        "R@K at the K the reader reads, when linking"
    )


def test_reader_training_resumes_after_the_last_finished_epoch(tmp_path, tiny_model, write_recipe):
    import shutil

    from entqa_kit.models.model_dir import read_model_config

    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index", epochs=1)
    reader = [
        f"reader.model={tiny_model}",
        "reader.learning_rate=0.003",
        "reader.train_k=3",
        "reader.test_k=3",
        "reader.dtype=float32",
        "reader.max_train_passages=12",
    ]
    train_retriever(load_recipe(recipe_path), tmp_path / "model", quiet=True)
    train_reader(load_recipe(recipe_path, [*reader, "reader.epochs=1"]), tmp_path / "model", quiet=True)
    first = read_model_config(tmp_path / "model").reader_training.history
    shutil.rmtree(tmp_path / "model" / "reader")
    train_reader(
        load_recipe(recipe_path, [*reader, "reader.epochs=2"]), tmp_path / "model", resume=True, quiet=True
    )
    history = read_model_config(tmp_path / "model").reader_training.history
    assert [h["epoch"] for h in history] == [1, 2] and history[0] == first[0]
    assert (tmp_path / "model" / "reader" / "heads.safetensors").is_file()
    assert read_model_config(tmp_path / "model").link.threshold == 0.05, "the threshold is saved for link"
