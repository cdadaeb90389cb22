"""Document formats are told by content, not file names; scoring refuses documents without gold."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.errors import EntQAError
from entqa_kit.documents import detect_format, load_documents, load_labelled_documents
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import DenseIndex
from tests.conftest import FIXTURES

runner = CliRunner()


@pytest.fixture(scope="module")
def umls_kb(tmp_path_factory, tiny_encoder):
    out = tmp_path_factory.mktemp("umls-index")
    build_index(FIXTURES / "kb_umls.jsonl", out, encoder=tiny_encoder, quiet=True)
    return DenseIndex.load(out).kb


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("ncbi_dev5.txt", "pubtator_mini.txt", "pubtator"),
        ("abstracts", "pubtator_mini.txt", "pubtator"),
        ("dev.txt", "aida_mini.tsv", "aida"),
        ("corpus.data", "docs_toy.jsonl", "jsonl"),
    ],
)
def test_format_is_detected_by_content_whatever_the_name(tmp_path, name, source, expected):
    path = tmp_path / name
    shutil.copy(FIXTURES / source, path)
    assert detect_format(path) == expected


def test_plain_text_stays_plain_text_even_when_named_corpus(tmp_path):
    path = tmp_path / "my_corpus.txt"
    path.write_text("Paris is the capital of France.\nBerlin|is a city.\n")
    assert detect_format(path) == "txt"
    assert detect_format(tmp_path) == "txt"
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "pubtator_mini.txt").read_bytes())
    assert detect_format(bom) == "pubtator"


def test_trimmed_pubtator_file_is_read_with_its_gold_mentions(tmp_path, umls_kb):
    path = tmp_path / "ncbi_dev5.txt"
    shutil.copy(FIXTURES / "pubtator_mini.txt", path)
    docs = load_documents(path, umls_kb)
    assert [d.id for d in docs.documents] == ["100", "200"]
    assert docs.num_mentions == 6 and docs.num_in_kb == 5


def test_format_option_still_overrides_detection(tmp_path):
    path = tmp_path / "ncbi_dev5.txt"
    shutil.copy(FIXTURES / "pubtator_mini.txt", path)
    docs = load_documents(path, fmt="txt")
    assert len(docs.documents) == 1 and docs.num_mentions == 0


def test_missing_document_file_is_e001(tmp_path):
    with pytest.raises(EntQAError) as caught:
        load_documents(tmp_path / "nope.txt")
    assert caught.value.code == "E001"


def test_labelled_documents_without_gold_are_refused(tmp_path, umls_kb):
    path = tmp_path / "notes.txt"
    path.write_text("Breast cancer is common.\n")
    with pytest.raises(EntQAError) as caught:
        load_labelled_documents(path, umls_kb)
    assert str(caught.value) == (
        f"[E090] {path}: no gold mentions in the 1 document read (as plain text, one document per file), "
        "so there is nothing to score; give labelled documents, or name their format with --format "
        "(pubtator, aida or jsonl)"
    )


def test_labelled_documents_whose_gold_is_all_out_of_kb_are_refused(tmp_path, umls_kb):
    path = tmp_path / "docs.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "Paris.", "mentions": [{"start": 0, "end": 5, "entity": "Q1"}]})
    )
    with pytest.raises(EntQAError) as caught:
        load_labelled_documents(path, umls_kb)
    assert caught.value.code == "E091" and "labels such as 'Q1'" in str(caught.value)


def test_evaluate_plain_text_stops_with_e090(tmp_path, tiny_index):
    data = tmp_path / "dev.txt"
    data.write_text("Paris is the capital of France.\n")
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text('{"id": "dev.txt", "mentions": []}\n')
    args = ["evaluate", str(data), "--index", str(tiny_index), "--predictions", str(predictions)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E090] {data}: no gold mentions in the 1 document read")


def test_evaluate_of_a_trimmed_pubtator_file_scores_its_gold(tmp_path, tiny_index):
    data = tmp_path / "dev5.txt"
    data.write_text(
        "7|t|Paris and France.\n7|a|Berlin.\n7\t0\t5\tParis\tCity\tQ1\n7\t10\t16\tFrance\tCountry\tQ2\n"
    )
    predictions = tmp_path / "pred.jsonl"
    mentions = [{"start": 0, "end": 5, "text": "Paris", "entity": "Q1", "title": "Paris", "score": 0.9}]
    predictions.write_text(json.dumps({"id": "7", "mentions": mentions}) + "\n")
    args = ["evaluate", str(data), "--index", str(tiny_index), "--predictions", str(predictions), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert (scores["num_gold"], scores["num_pred"], scores["precision"]) == (2, 1, 100.0)


def test_calibrate_plain_text_stops_with_e090(tmp_path, toy_model):
    model, index = toy_model
    data = tmp_path / "dev.txt"
    data.write_text("Paris is the capital of France.\n")
    args = ["calibrate", str(data), "--index", str(index), "--model", str(model), "--no-write"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E090] {data}: no gold mentions in the 1 document read")


def test_evaluate_checks_the_documents_before_the_model_loads(tmp_path, tiny_index, monkeypatch):
    from entqa_kit.linking.linker import Linker

    def no_loading(*args, **kwargs):
        raise AssertionError("the model must not load for unlabelled documents")

    monkeypatch.setattr(Linker, "from_pretrained", no_loading)
    data = tmp_path / "dev.txt"
    data.write_text("Paris is the capital of France.\n")
    result = runner.invoke(app, ["evaluate", str(data), "--index", str(tiny_index)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: [E090] {data}: no gold mentions in the 1 document read")


def test_link_inputs_read_a_pubtator_file_as_its_abstracts(tmp_path):
    from entqa_kit.documents.link_inputs import iter_inputs

    path = tmp_path / "ncbi_dev5.txt"
    shutil.copy(FIXTURES / "pubtator_mini.txt", path)
    documents = list(iter_inputs([str(path)]))
    assert [(d.id, d.text) for d in documents] == [
        ("100", "Breast cancer and cystic fibrosis. We studied familial breast cancer in two cohorts."),
        ("200", "Mucoviscidosis again. Unknown disease here."),
    ]
