import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entqa_kit.core.config import PassageConfig
from entqa_kit.core.records import Document, Mention
from entqa_kit.documents.passages import make_passages, passage_input_ids, window_starts


@pytest.fixture(scope="module")
def tokenizer(tiny_encoder):
    return tiny_encoder.tokenizer


def test_windows_cover_every_token():
    assert window_starts(0, 32, 16) == []
    assert window_starts(10, 32, 16) == [0]
    assert window_starts(40, 32, 16) == [0, 16]
    assert window_starts(64, 32, 16) == [0, 16, 32]


def test_passages_carry_gold_and_topic(tokenizer):
    text = "SOCCER - Japan beat China in Tokyo . " * 6
    mentions = (
        Mention(start=9, end=14, entities=("Q-japan",)),
        Mention(start=200, end=205, entities=("Q-x",)),
        Mention(start=20, end=25, entities=()),
    )
    doc = Document(id="d", text=text, mentions=mentions)
    passages = make_passages(doc, tokenizer, PassageConfig(length=8, stride=4))
    assert passages[0].gold == ("Q-japan",)
    assert all(
        p.topic_ids == tuple(tokenizer("SOCCER", add_special_tokens=False)["input_ids"]) for p in passages
    )
    assert any("Q-x" in p.gold for p in passages)
    ids = passage_input_ids(passages[0], tokenizer)
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert ids.count(tokenizer.sep_token_id) == 2
    none = make_passages(doc, tokenizer, PassageConfig(length=8, stride=4, topic="none"))
    assert (
        none[0].topic_ids == () and passage_input_ids(none[0], tokenizer).count(tokenizer.sep_token_id) == 1
    )


def test_first_sentence_topic(tokenizer):
    doc = Document(id="d", text="Short title. Then a much longer body follows here.")
    (passage,) = make_passages(doc, tokenizer, PassageConfig(topic="first_sentence"))
    assert tokenizer.decode(list(passage.topic_ids)) == "short title."


unicode_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(" \n\tÀéü東京ß🙂İ"),
    min_size=0,
    max_size=200,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=unicode_text, length=st.integers(4, 40), stride_share=st.floats(0.01, 1.0))
def test_every_wordpiece_maps_back_to_its_exact_characters(tokenizer, text, length, stride_share):
    stride = max(1, round(length * stride_share))
    normalizer = tokenizer.backend_tokenizer.normalizer
    passages = make_passages(
        Document(id="d", text=text), tokenizer, PassageConfig(length=length, stride=stride)
    )
    all_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    covered = set()
    for passage in passages:
        assert len(passage.token_ids) <= length
        assert 0 <= passage.char_start <= passage.char_end <= len(text)
        for token_id, (start, end) in zip(passage.token_ids, passage.offsets):
            piece = tokenizer.convert_ids_to_tokens(token_id)
            if piece == tokenizer.unk_token:
                continue
            characters = normalizer.normalize_str(text[start:end])
            if len(text[start:end]) == 1 and len(characters) > 1:
                # one character the normaliser decomposes (a Hangul syllable into jamo) may be split
                # into several wordpieces, each mapped to the whole character
                assert piece.removeprefix("##") in characters
            else:
                assert characters == piece.removeprefix("##")
        first = passage.index * stride
        assert list(passage.token_ids) == all_ids[first : first + length]
        covered.update(range(first, first + len(passage.token_ids)))
    assert covered == set(range(len(all_ids))), "every wordpiece is in some passage"


def test_stride_longer_than_length_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="must not exceed length"):
        PassageConfig(length=8, stride=9)
