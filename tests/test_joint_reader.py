"""The joint reader: input layout and offsets, the loss by hand, training a toy model, one Linker."""

from __future__ import annotations

import math

import pytest

from entqa_kit.core.records import Document, Passage


@pytest.fixture(scope="session")
def joint_model(tmp_path_factory, tiny_model, toy_model):
    """A tiny joint reader trained on the toy KB, on the toy model's retriever: (index_dir, model_dir)."""
    from entqa_kit.training.reader_stage import train_reader
    from tests.conftest import toy_joint_recipe

    overrides = [
        "reader.candidate_description_tokens=8",
        "reader_train.epochs=60",
        "reader_train.learning_rate=0.003",
        "reader_train.train_k=3",
        "reader_train.gold_drop=0.0",
        "reader_train.batch_size=4",
        "link.test_k=3",
        "link.dtype=float32",
    ]
    tmp = tmp_path_factory.mktemp("toy-joint")
    recipe, model_dir = toy_joint_recipe(tmp, tiny_model, toy_model, *overrides)
    train_reader(recipe, model_dir, quiet=True)
    return toy_model[1], model_dir


def test_layout_puts_passage_token_i_at_i_plus_1_and_markers_before_candidates(tiny_model):
    from transformers import AutoTokenizer

    from entqa_kit.reading.joint import joint_layout, marker_token_ids

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    passage = Passage(document_id="d", index=0, token_ids=(11, 12, 13), offsets=((0, 1), (2, 3), (4, 5)))
    markers = marker_token_ids(tokenizer, 3)
    layout = joint_layout(passage, [[21, 22], [31]], markers, tokenizer)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert layout.input_ids == [cls, 11, 12, 13, sep, markers[0], markers[1], 21, 22, markers[2], 31, sep]
    assert layout.marker_positions == [5, 6, 9]
    assert layout.token_types == [0] * 5 + [1] * 7
    assert [layout.input_ids[i + 1] for i in range(3)] == list(passage.token_ids)
    assert len(set(markers)) == 3 and all(
        tokenizer.convert_ids_to_tokens(m).startswith("[unused") for m in markers
    )


def test_loss_matches_a_hand_computation():
    import torch

    from entqa_kit.reading.joint import GoldSpan, JointInputs, joint_loss

    class Fixed(torch.nn.Module):
        """Hidden states chosen by hand; heads are identity-like so logits are easy to compute."""

        def __init__(self):
            super().__init__()
            self.scale = 1.0

        def hidden_states(self, inputs):
            return torch.tensor([[[0.0], [2.0], [-1.0], [0.0], [1.0], [3.0]]])

        def start_logits(self, hidden, inputs):
            return hidden.squeeze(-1).masked_fill(~inputs.passage_mask, float("-inf"))

        def end_logits(self, hidden, rows, starts):
            return hidden[rows].squeeze(-1) * hidden[rows, starts]

        def entity_logits(self, hidden, inputs, rows, starts, ends):
            markers = hidden[rows.unsqueeze(-1), inputs.marker_positions[rows]].squeeze(-1)
            return markers * (hidden[rows, starts] + hidden[rows, ends])

    inputs = JointInputs(
        input_ids=torch.zeros((1, 6), dtype=torch.long),
        attention_mask=torch.ones((1, 6), dtype=torch.long),
        token_type_ids=torch.zeros((1, 6), dtype=torch.long),
        passage_mask=torch.tensor([[False, True, True, False, False, False]]),
        marker_positions=torch.tensor([[4, 5]]),
        marker_mask=torch.tensor([[True, True]]),
    )
    loss = joint_loss(Fixed(), inputs, [GoldSpan(0, 1, 2, 1)], max_span_tokens=10)

    def softplus(x):
        return math.log1p(math.exp(x))

    start = softplus(-2.0) + softplus(-1.0)  # label 1 at position 1 (logit 2), 0 at 2 (logit -1)
    end_logits = [2.0 * 2.0, -1.0 * 2.0]  # ends 1, 2 for start 1
    end = -(end_logits[1] - math.log(sum(math.exp(x) for x in end_logits)))
    span_state = 2.0 + -1.0
    entity_logits = [1.0 * span_state, 3.0 * span_state]  # [NONE], candidate 0
    entity = -(entity_logits[1] - math.log(sum(math.exp(x) for x in entity_logits)))
    assert loss.item() == pytest.approx(start + end + entity, rel=1e-5)


def test_trained_toy_joint_model_links_its_training_sentences(joint_model):
    from entqa_kit.linking.linker import Linker

    index_dir, model_dir = joint_model
    # the toy retriever misses Paris in its top 3; the KB's names bring it in, the reader decides
    linker = Linker.from_pretrained(index_dir, model_dir, threshold=0.05, candidates="dense+names")
    assert linker.reader_config.kind == "joint"
    texts = ["Yesterday we read about Paris in the news.", "France was discussed at length by the committee."]
    linked = linker.link(texts)
    got = [[(m.text, m.entity) for m in d.mentions] for d in linked]
    assert got == [[("Paris", "Q1")], [("France", "Q2")]]
    assert linker.profile["passes"] == 2, "one reader pass per passage"


def test_pair_and_joint_models_link_through_the_same_linker_with_exact_offsets(joint_model, toy_model):
    from entqa_kit.linking.linker import Linker

    text = "🙂 Ça va? Yesterday we read about Berlin in the news."
    for index_dir, model_dir in (joint_model, (toy_model[1], toy_model[0])):
        linker = Linker.from_pretrained(index_dir, model_dir, threshold=0.001, candidates="dense+names")
        document = linker.link([text])[0]
        assert document.mentions, f"{model_dir} linked nothing"
        assert all(text[m.start : m.end] == m.text for m in document.mentions)


def test_given_mentions_link_exactly_those_spans(joint_model, toy_model):
    from entqa_kit.linking.linker import Linker

    text = "Yesterday we read about Berlin in the news."
    span = (text.index("Berlin"), text.index("Berlin") + len("Berlin"))
    for index_dir, model_dir in (joint_model, (toy_model[1], toy_model[0])):
        linker = Linker.from_pretrained(index_dir, model_dir)
        document = linker.link_document(Document(id="x", text=text), mentions=[span])
        assert [(m.start, m.end, m.entity) for m in document.mentions] == [(*span, "Q3")]


def test_unknown_link_settings_are_refused(joint_model):
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.linking.linker import Linker

    with pytest.raises(EntQAError) as caught:
        Linker.from_pretrained(*joint_model, epochs=9)
    assert caught.value.code == "E040" and "epochs is not a link setting" in caught.value.message


def test_pair_only_speed_levers_are_refused_for_a_joint_model(joint_model):
    from typer.testing import CliRunner

    from entqa_kit.cli.main import app

    index_dir, model_dir = joint_model
    result = CliRunner().invoke(
        app,
        ["link", "-", "--index", str(index_dir), "--model", str(model_dir), "--entity-tokens", "8"],
        input="Paris.\n",
    )
    assert result.exit_code == 1
    assert "[E040]" in result.output and "test_entity_tokens applies to the pair reader only" in result.output


def test_an_exported_joint_model_links_like_the_original(joint_model, tmp_path):
    from entqa_kit.linking.linker import Linker
    from entqa_kit.models.export import export_model

    index_dir, model_dir = joint_model
    export_model(model_dir, tmp_path / "fp16")
    text = "Yesterday we read about Berlin in the news."
    original = Linker.from_pretrained(index_dir, model_dir, threshold=0.01).link([text])[0]
    exported = Linker.from_pretrained(index_dir, tmp_path / "fp16", threshold=0.01).link([text])[0]
    assert original.mentions, "the toy joint model links the sentence"
    assert [(m.start, m.end, m.entity) for m in exported.mentions] == [
        (m.start, m.end, m.entity) for m in original.mentions
    ]


def test_linking_documents_together_gives_the_same_mentions_as_one_at_a_time(joint_model, toy_model):
    from entqa_kit.linking.linker import Linker

    texts = [
        "Yesterday we read about Berlin in the news.",
        "",
        "Paris was discussed at length by the committee, and France too.",
    ]
    documents = [Document(id=str(i), text=t) for i, t in enumerate(texts)]
    for index_dir, model_dir in (joint_model, (toy_model[1], toy_model[0])):
        linker = Linker.from_pretrained(index_dir, model_dir, threshold=0.01)
        alone = [linker.link_document(d) for d in documents]
        together = linker.link_documents(documents)
        assert any(d.mentions for d in alone), f"{model_dir} linked nothing"
        assert [d.id for d in together] == ["0", "1", "2"]
        for a, b in zip(alone, together):
            assert [(m.start, m.end, m.entity) for m in a.mentions] == [
                (m.start, m.end, m.entity) for m in b.mentions
            ]
            assert [m.score for m in a.mentions] == pytest.approx([m.score for m in b.mentions], abs=1e-3)
