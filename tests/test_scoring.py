import pytest

from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan, Mention
from entqa_kit.evaluation.scoring import score_linking


def span(start, end, entity):
    return LinkedSpan(start=start, end=end, text="x", entity=entity, title="t", score=0.5)


def test_strong_match_inkb_scores_by_hand():
    gold = [
        Document(
            id="d1",
            text="x" * 100,
            mentions=(
                Mention(start=0, end=5, entities=("A",)),
                Mention(start=10, end=15, entities=("B",)),
                Mention(start=20, end=25, entities=(), label="--NME--"),  # out of KB
                Mention(start=30, end=35, entities=("C", "D")),  # composite
            ),
        ),
        Document(id="d2", text="x" * 50, mentions=(Mention(start=0, end=4, entities=("E",)),)),
    ]
    predictions = [
        LinkedDocument(
            id="d1",
            mentions=[
                span(0, 5, "A"),  # TP
                span(10, 15, "Z"),  # right span, wrong entity: FP (md TP)
                span(20, 25, "Q"),  # on an out-of-KB gold span: ignored
                span(30, 35, "D"),  # TP (one of the composite's ids)
                span(40, 45, "A"),  # FP, span not in gold
            ],
        ),
        LinkedDocument(id="d2", mentions=[span(0, 3, "E")]),  # boundary off: FP
    ]
    scores = score_linking(gold, predictions)
    # gold in KB = 4, counted predictions = 5 (one ignored), TP = 2
    assert (scores.num_gold, scores.num_pred, scores.true_positives) == (4, 5, 2)
    assert scores.precision == pytest.approx(40.0)
    assert scores.recall == pytest.approx(50.0)
    assert scores.f1 == pytest.approx(round(100 * 2 * 0.4 * 0.5 / 0.9, 2))
    assert scores.md_precision == pytest.approx(60.0) and scores.md_recall == pytest.approx(75.0)


def test_missing_prediction_documents_count_as_empty():
    gold = [Document(id="d", text="abc", mentions=(Mention(start=0, end=1, entities=("A",)),))]
    scores = score_linking(gold, [])
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)


def test_error_list_macro_f1_and_ed_accuracy():
    from entqa_kit.evaluation.scoring import LinkingError

    text = "Paris is in France and Berlin too."
    gold = [
        Document(
            id="d",
            text=text,
            mentions=(
                Mention(start=0, end=5, entities=("P",)),
                Mention(start=12, end=18, entities=("F",)),
                Mention(start=23, end=29, entities=("B",)),
            ),
        )
    ]
    predicted = [LinkedDocument(id="d", mentions=[span(0, 5, "P"), span(12, 18, "X")])]
    errors: list[LinkingError] = []
    scores = score_linking(gold, predicted, errors)
    assert scores.ed_accuracy == 50.0, "one of the two correctly detected spans has the right entity"
    assert scores.macro_f1 == scores.f1 == pytest.approx(40.0)
    kinds = sorted((e.kind, e.text) for e in errors)
    assert kinds == [("false_negative", "Berlin"), ("false_negative", "France"), ("false_positive", "France")]
    assert next(e for e in errors if e.text == "Berlin").context.endswith("[[Berlin]] too.")


def test_links_on_out_of_kb_gold_count_as_wrong_when_asked():
    text = "Manchester and Everton."
    gold = [
        Document(
            id="d",
            text=text,
            mentions=(
                Mention(start=0, end=10, entities=(), label="Manchester"),  # a city: not in a clubs KB
                Mention(start=15, end=22, entities=("EVE",)),
            ),
        )
    ]
    predicted = [LinkedDocument(id="d", mentions=[span(0, 10, "MUFC"), span(15, 22, "EVE")])]
    ignored = score_linking(gold, predicted)
    wrong = score_linking(gold, predicted, out_of_kb="wrong")
    assert (ignored.num_pred, ignored.precision) == (1, 100.0), "GERBIL InKB leaves the forced link out"
    assert (wrong.num_pred, wrong.true_positives, wrong.precision) == (2, 1, 50.0)
    assert wrong.recall == ignored.recall == 100.0, "out-of-KB gold is never in recall"
    assert wrong.md_precision == 50.0


def test_unknown_out_of_kb_mode_is_refused():
    from entqa_kit.core.errors import EntQAError

    with pytest.raises(EntQAError, match="E041"):
        score_linking([], [], out_of_kb="count")
