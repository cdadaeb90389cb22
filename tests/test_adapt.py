"""Training without labels: silver documents in recipes, KB alias queries for the retriever, silver masking
in the reader, and ``entqa-kit adapt`` end to end (tiny random models, the toy KB)."""

import json

import numpy as np
import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

from entqa_kit.cli.main import app
from entqa_kit.core.config import DataConfig, Recipe
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, Mention
from entqa_kit.documents.unlabelled import SILVER_LABEL, training_documents
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.training.recipes import load_recipe
from tests.conftest import FIXTURES

runner = CliRunner()
KB = FIXTURES / "kb_native.jsonl"
DOCS = FIXTURES / "docs_toy.jsonl"
QUICK = ["retriever.epochs=1", "reader.epochs=1", "reader.dtype=float32", "reader.train_k=3"]


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    from kb_adapters.base import BadRowLog, ReadOptions
    from kb_adapters.registry import get_adapter

    store = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    rows = get_adapter(KB, None).read(KB, ReadOptions(), BadRowLog(False))
    opened = KnowledgeBase.build(rows, store, KB, BadRowLog(False))
    yield opened
    opened.close()


def write_docs(path, docs):
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


def tensors(path):
    return {k: v.float() for k, v in load_file(str(path)).items()}


def changed(a, b):
    return any((a[k] - b[k]).abs().max() > 1e-6 for k in a)


# --- silver documents in recipes -------------------------------------------------------------------


def test_unlabelled_text_gets_silver_mentions_and_labelled_documents_win_on_the_same_id(tmp_path, kb):
    unlabelled = write_docs(
        tmp_path / "u.jsonl",
        [{"id": "d0-0", "text": "Berlin only."}, {"id": "u1", "text": "From Berlin to Germany."}],
    )
    data = DataConfig(kb=str(KB), index="i", train=str(DOCS), unlabelled=str(unlabelled))
    data.silver.source = "match"
    mixed = training_documents(data, kb).documents
    by_id = {d.id: d for d in mixed}
    assert len(mixed) == 42
    assert [m.label for m in by_id["d0-0"].mentions] == ["Q1"], "the labelled document, not the silver one"
    silver = by_id["u1"].mentions
    assert [(m.start, m.end, m.entities, m.label) for m in silver] == [
        (5, 11, ("Q3",), SILVER_LABEL),
        (15, 22, ("Q4",), SILVER_LABEL),
    ]


def test_a_silver_jsonl_is_used_as_it_is_and_its_labels_marked_silver(tmp_path, kb):
    silver = write_docs(
        tmp_path / "silver.jsonl",
        [
            {
                "id": "s",
                "text": "Paris Hilton in Paris.",
                "mentions": [{"start": 16, "end": 21, "entity": "Q1"}],
            }
        ],
    )
    data = DataConfig(kb=str(KB), index="i", unlabelled=str(silver))
    documents = training_documents(data, kb).documents
    assert len(documents) == 1
    assert [(m.start, m.entities, m.label) for m in documents[0].mentions] == [(16, ("Q1",), SILVER_LABEL)]


def test_unlabelled_weight_caps_silver_documents_per_labelled_one(tmp_path, kb):
    unlabelled = write_docs(tmp_path / "u.jsonl", [{"id": f"u{i}", "text": "Tokyo."} for i in range(30)])
    data = DataConfig(
        kb=str(KB),
        index="i",
        train=str(DOCS),
        train_docs=4,
        unlabelled=str(unlabelled),
        unlabelled_weight=1.5,
    )
    documents = training_documents(data, kb).documents
    assert len(documents) == 4 + 6
    assert sum(1 for d in documents if d.id.startswith("u")) == 6


def test_a_recipe_needs_labelled_or_unlabelled_documents():
    with pytest.raises(ValueError, match="give train"):
        DataConfig(kb="kb", index="i")
    assert DataConfig(kb="kb", index="i", unlabelled="docs").train is None


def test_a_recipe_with_only_unlabelled_documents_trains_both_stages(tmp_path, tiny_model, write_recipe):
    from entqa_kit.training.run import train

    recipe = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    overrides = [*QUICK, f"reader.model={tiny_model}", "data.train=null", f"data.unlabelled={DOCS}"]
    overrides += ["data.silver.source=match", "data.silver.max_doc_share=1"]
    result = train(recipe, tmp_path / "model", overrides=overrides, quiet=True)
    assert result.retriever.best_epoch == 1 and np.isfinite(result.reader.final_loss)
    assert (tmp_path / "model" / "reader" / "heads.safetensors").is_file()


def test_a_recipe_with_labelled_and_unlabelled_documents_trains(tmp_path, tiny_model, write_recipe):
    from entqa_kit.training.run import train

    unlabelled = write_docs(tmp_path / "u.jsonl", [{"id": "u1", "text": "Asthma and Cystic fibrosis."}])
    recipe = write_recipe(tmp_path, tiny_model, tmp_path / "index")
    overrides = [*QUICK, f"reader.model={tiny_model}", "data.train_docs=6", f"data.unlabelled={unlabelled}"]
    overrides += ["reader_train.labelled_repeat=3", "data.silver.variants=true"]
    result = train(recipe, tmp_path / "model", overrides=overrides, quiet=True)
    assert np.isfinite(result.reader.final_loss)
    from entqa_kit.models.model_dir import read_model_config

    assert read_model_config(tmp_path / "model").reader_train.labelled_repeat == 3


# --- KB alias queries (retriever pretraining from the KB) -----------------------------------------


def test_alias_queries_name_their_entities_and_share_golds(kb, tiny_encoder):
    from entqa_kit.training.alias_queries import alias_queries, query_text

    passages, golds = alias_queries(kb, tiny_encoder.tokenizer, 1000, 0, 32, seed=0)
    assert len(passages) == len(golds) == 31  # 20 titles + 12 aliases, "Jaguar" twice
    texts = {tiny_encoder.tokenizer.decode(p.token_ids): g for p, g in zip(passages, golds)}
    assert texts["jaguar"] == [kb.row_of("Q11"), kb.row_of("Q12")], "a shared name has both as golds"
    assert texts["city of light"] == [kb.row_of("Q1")]
    assert len(alias_queries(kb, tiny_encoder.tokenizer, 5, 0, 32, seed=0)[0]) == 5
    assert query_text("Paris", "Capital and largest city of France.", 3) == "Paris: Capital and largest"


def test_alias_pretraining_alone_trains_the_passage_tower(tmp_path, tiny_model, write_recipe):
    from entqa_kit.training.retriever_stage import train_retriever

    nothing = write_docs(tmp_path / "none.jsonl", [{"id": "n", "text": "Nothing from the KB here."}])
    recipe_path = write_recipe(tmp_path, tiny_model, tmp_path / "index", epochs=1)
    base = ["data.train=null", f"data.unlabelled={nothing}", "data.silver.source=match"]
    with pytest.raises(EntQAError) as caught:  # without KB queries there is nothing to train on
        train_retriever(load_recipe(recipe_path, base), tmp_path / "m0", quiet=True)
    assert caught.value.code == "E044"
    recipe = load_recipe(recipe_path, [*base, "retriever.kb_alias_queries=40"])
    train_retriever(recipe, tmp_path / "m1", quiet=True)
    tower = tensors(tmp_path / "m1" / "retriever" / "passage_encoder" / "model.safetensors")
    start = tensors(tiny_model / "model.safetensors")
    assert changed({k: start[k] for k in tower if k in start}, {k: tower[k] for k in tower if k in start})


# --- silver masking in the reader -----------------------------------------------------------------


def test_masking_hides_silver_mentions_from_the_loss_and_from_the_negatives(kb, tiny_encoder):
    from entqa_kit.core.config import PassageConfig
    from entqa_kit.documents.passages import passages_of
    from entqa_kit.training.reader_stage import training_pairs
    from entqa_kit.training.silver_masking import SILVER_MASKED, mask_silver, masked_rows

    silver = [Mention(start=0, end=5, entities=("Q1",), label=SILVER_LABEL)]
    silver.append(Mention(start=10, end=16, entities=("Q2",), label=SILVER_LABEL))
    document = Document(id="x", text="Paris and France.", mentions=tuple(silver))
    assert mask_silver([document], 0.0, 0) == [document]
    masked = mask_silver([document] * 50, 0.5, seed=0)
    labels = [m.label for d in masked for m in d.mentions]
    assert 30 < labels.count(SILVER_MASKED) < 70
    france_masked = document.model_copy(
        update={"mentions": (silver[0], silver[1].model_copy(update={"label": SILVER_MASKED}))}
    )
    passage = passages_of([france_masked], tiny_encoder.tokenizer, PassageConfig(length=16, stride=8))[0]
    assert masked_rows(passage, france_masked, kb) == {kb.row_of("Q2")}
    retrieved = np.array([[kb.row_of("Q2"), kb.row_of("Q3"), kb.row_of("Q4")]])
    (example,) = training_pairs([passage], {"x": france_masked}, retrieved, kb, k=2)
    assert example[1] == [kb.row_of("Q1"), kb.row_of("Q3")], "France is neither gold nor a negative"


def test_masked_start_positions_leave_the_joint_start_loss():
    import torch

    from entqa_kit.reading.joint import JointInputs
    from entqa_kit.training.silver_masking import without_positions

    ones = torch.ones((2, 6), dtype=torch.long)
    inputs = JointInputs(ones, ones, ones, torch.ones((2, 6), dtype=torch.bool), ones[:, :2], ones[:, :2] > 0)
    masked = without_positions(inputs, [(2, 4), ()])
    assert masked.passage_mask.tolist() == [[True, True, False, True, False, True], [True] * 6]
    assert inputs.passage_mask.all(), "the original is untouched"


# --- entqa-kit adapt ------------------------------------------------------------------------------


def adapt_args(out, model, *extra):
    return [
        "adapt",
        str(KB),
        "--unlabelled",
        str(DOCS),
        "--out",
        str(out),
        "--init-from",
        str(model),
        "--budget-minutes",
        "0.3",
        "--max-doc-share",
        "1",
        *extra,
    ]


def test_adapt_writes_a_model_that_links_and_a_recipe_that_reproduces_it(tmp_path, toy_model):
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.model_dir import read_model_config

    model, _ = toy_model
    out = tmp_path / "adapted"
    result = runner.invoke(app, adapt_args(out, model, "--dev", str(DOCS), "--json", "-q"))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["threshold_source"] == "dev" and summary["calibration"]["num_docs"] == 41
    assert summary["silver"]["mentions"] > 0 and summary["index"] == str(out / "index")
    saved = read_model_config(out)
    assert saved.link.threshold == summary["threshold"]
    recipe = load_recipe(out / "recipe.toml")
    assert recipe == saved.recipe, "the recipe file holds exactly the settings the model was trained with"
    assert recipe.data.train is None and recipe.data.unlabelled == str(out / "silver.jsonl")
    assert recipe.retriever.kb_alias_queries > 0 and recipe.reader_train.silver_mask == 0.3
    assert recipe.init_from == str(model.resolve())
    assert recipe.data.silver.abbreviations and recipe.data.silver.variants and recipe.link.name_variants
    assert recipe.reader_train.labelled_repeat == 1  # nothing labelled
    assert recipe.link.name_anchor_floor == 0.05 and not recipe.link.labelled_names
    linker = Linker.from_pretrained(index_dir=out / "index", model_dir=out)
    assert len(linker.link(["Yesterday we read about Paris in the news."])) == 1

    again = runner.invoke(app, adapt_args(out, model))
    assert again.exit_code == 1
    assert again.output.strip().splitlines()[-1] == (
        f"error: [E160] {out}: already holds an adaptation run (recipe.toml); pass --resume to continue it, "
        "or choose another --out"
    )


def test_adapt_without_labels_keeps_the_starting_threshold_and_resumes(tmp_path, toy_model):
    from entqa_kit.adaptation.adapt import AdaptOptions, adapt
    from entqa_kit.kb.name_matcher import MatcherOptions
    from entqa_kit.models.model_dir import read_model_config

    model, _ = toy_model
    options = AdaptOptions(init_from=model, budget_minutes=0.2, matcher=MatcherOptions(max_doc_share=1.0))
    first = adapt(KB, DOCS, tmp_path / "a", options, quiet=True)
    assert first.threshold_source == "kept" and first.calibration is None
    assert first.threshold == read_model_config(model).link.threshold
    state = json.loads((tmp_path / "a" / "checkpoints" / "reader-last" / "state.json").read_text())
    assert state["epochs_done"] == 1
    resumed = adapt(KB, DOCS, tmp_path / "a", AdaptOptions(**{**vars(options), "resume": True}), quiet=True)
    assert resumed.training["reader_history"] == first.training["reader_history"], "nothing trained again"


def test_adapt_holds_out_labelled_documents_for_gamma(tmp_path, toy_model):
    from entqa_kit.adaptation.adapt import AdaptOptions, adapt
    from entqa_kit.kb.name_matcher import MatcherOptions

    model, _ = toy_model
    options = AdaptOptions(
        labelled=DOCS, init_from=model, budget_minutes=0.2, matcher=MatcherOptions(max_doc_share=1.0)
    )
    result = adapt(KB, DOCS, tmp_path / "a", options, quiet=True)
    assert result.threshold_source == "held-out" and result.calibration["num_docs"] == 8
    assert len((tmp_path / "a" / "labelled.jsonl").read_text().splitlines()) == 33


def test_adapt_refuses_documents_without_any_kb_name(tmp_path, toy_model):
    model, _ = toy_model
    nothing = write_docs(tmp_path / "none.jsonl", [{"id": "n", "text": "Nothing from the KB here."}])
    args = adapt_args(tmp_path / "a", model)
    args[3] = str(nothing)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "[E161]" in result.output and "no KB name was found in its 1 documents" in result.output


def test_budget_settings_scale_with_minutes():
    from entqa_kit.adaptation.adapt import budget_settings

    small, large = budget_settings(5, "pair"), budget_settings(50, "pair")
    assert all(large[k] > small[k] for k in small)
    with pytest.raises(EntQAError):
        budget_settings(0, "pair")


def test_recipe_toml_round_trips(tmp_path):
    from entqa_kit.adaptation.recipe_file import write_recipe

    recipe = Recipe.model_validate(
        {"data": {"kb": "k é", "index": "i", "unlabelled": "u", "silver": {"max_doc_share": 0.5}}}
    )
    path = write_recipe(recipe, tmp_path / "r.toml", header="a\nb")
    assert load_recipe(path) == recipe
    assert path.read_text().startswith("# a\n# b\n")


def test_a_joint_reader_trains_on_silver_documents_with_masked_mentions(tmp_path, tiny_model, toy_model):
    from entqa_kit.training.reader_stage import train_reader
    from entqa_kit.training.silver_masking import SILVER_MASKED, mask_silver
    from tests.conftest import toy_joint_recipe

    overrides = [
        "reader_train.epochs=1",
        "reader_train.train_k=3",
        "reader_train.silver_mask=0.5",
        "data.train=null",
        f"data.unlabelled={DOCS}",
        "data.silver.source=match",
        "data.silver.max_doc_share=1",
    ]
    recipe, model_dir = toy_joint_recipe(tmp_path, tiny_model, toy_model, *overrides)
    index_dir = toy_model[1]
    kb = KnowledgeBase(index_dir / "kb.sqlite")
    documents = mask_silver(training_documents(recipe.data, kb).documents, 0.5, 0)
    kb.close()
    assert any(m.label == SILVER_MASKED for d in documents for m in d.mentions)
    result = train_reader(recipe, model_dir, quiet=True)
    assert np.isfinite(result.final_loss)


def test_adapt_keeps_names_too_frequent_in_the_documents_out_of_the_linker(tmp_path, toy_model):
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.model_dir import read_model_config

    model, _ = toy_model
    out = tmp_path / "adapted"
    args = adapt_args(out, model, "--json", "-q")
    args[args.index("--max-doc-share") + 1] = "0.05"  # a name in over 2 of the 41 documents is frequent
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    frequent = json.loads(result.stdout.strip().splitlines()[-1])["silver"]["frequent"]
    assert frequent, "the test needs a frequent name"
    saved = read_model_config(out)
    assert saved.link.name_exclude == sorted(frequent) == load_recipe(out / "recipe.toml").link.name_exclude
    linker = Linker.from_pretrained(index_dir=out / "index", model_dir=out)
    text = " and ".join(frequent) + "."
    assert not {m.name for m in linker.name_matches(text)} & set(frequent)  # shorter names inside may match
    plain = Linker.from_pretrained(index_dir=out / "index", model_dir=out, name_exclude=[])
    assert {m.name for m in plain.name_matches(text)} == set(frequent)
