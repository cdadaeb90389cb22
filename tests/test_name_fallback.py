"""The name fallback: KB-name matches fill in where the reader linked nothing; calibration follows it."""

from __future__ import annotations

import pytest

from entqa_kit.core.records import Document, Mention
from entqa_kit.kb.name_matcher import NameMatch
from entqa_kit.linking.name_fallback import fill_with_names
from entqa_kit.reading.spans import ScoredSpan

TEXTS = [
    "Yesterday we read about Paris, Berlin and Tokyo in the news.",
    "France was discussed at length by the committee in Berlin.",
]


def dev_file(folder, *golds: tuple[str, str]):
    """Document JSONL of TEXTS[i] with one gold mention each: ``golds[i]`` = (its text, its entity)."""
    import json

    path = folder / "dev.jsonl"
    rows = [
        {
            "id": str(i),
            "text": t,
            "mentions": [{"start": t.index(n), "end": t.index(n) + len(n), "entity": e}],
        }
        for i, (t, (n, e)) in enumerate(zip(TEXTS, golds))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_matches_fill_only_where_no_linked_span_overlaps():
    reader = [ScoredSpan(10, 16, "A", 0.9)]
    matches = [
        NameMatch(0, 5, "B", "b", 1),  # free
        NameMatch(12, 20, "C", "c", 2),  # overlaps the reader's span: the reader wins
        NameMatch(16, 18, "D", "d", 3),  # touches it only
    ]
    got = fill_with_names(reader, matches, 0.25)
    assert [(s.start, s.end, s.entity, s.score) for s in got] == [
        (0, 5, "B", 0.25),
        (10, 16, "A", 0.9),
        (16, 18, "D", 0.25),
    ]
    assert fill_with_names([], [], 0.1) == []


def test_linker_fills_in_names_where_the_reader_is_silent(toy_model):
    from entqa_kit.linking.linker import Linker

    model_dir, index_dir = toy_model
    silent = {"threshold": 0.999999}  # the reader keeps nothing
    assert all(not d.mentions for d in Linker.from_pretrained(index_dir, model_dir, **silent).link(TEXTS))
    linker = Linker.from_pretrained(index_dir, model_dir, name_fallback=True, **silent)
    linked = linker.link(TEXTS)
    got = [[(m.text, m.entity, m.score) for m in d.mentions] for d in linked]
    expected_names = [[m.entity_id for m in linker.name_matches(t)] for t in TEXTS]
    assert [[e for _, e, _ in doc] for doc in got] == expected_names
    assert ("Paris", "Q1", 0.999999) in got[0] and ("Berlin", "Q3", 0.999999) in got[1]
    for document, text in zip(linked, TEXTS):
        assert all(text[m.start : m.end] == m.text for m in document.mentions)


@pytest.mark.parametrize(
    "names, abbreviations, anchor",
    [(True, False, None), (False, True, None), (True, True, None), (True, True, 0.001)],
)
def test_the_post_processed_curve_equals_linking_at_each_threshold(toy_model, names, abbreviations, anchor):
    from entqa_kit.evaluation.post_processed_curve import effective_thresholds, post_processed_curve
    from entqa_kit.evaluation.scoring import score_linking
    from entqa_kit.linking.linker import Linker

    model_dir, index_dir = toy_model
    texts = [*TEXTS, "We flew to Paris (PS) and later PS again, then Berlin."]
    gold = {"Paris": "Q1", "Berlin": "Q3", "France": "Q2", "Tokyo": "Q19"}
    documents = [
        Document(
            id=str(i),
            text=t,
            mentions=[
                Mention(start=t.index(n), end=t.index(n) + len(n), entities=(e,))
                for n, e in gold.items()
                if n in t
            ],
        )
        for i, t in enumerate(texts)
    ]
    floor = 0.001
    low = Linker.from_pretrained(index_dir, model_dir, threshold=floor, name_anchor_floor=anchor)
    predictions = low.link(documents)

    def post(document, kept, cut):
        return low.post_process(document, kept, cut, names, abbreviations)

    points = post_processed_curve(documents, predictions, post, floor)
    assert len(points) == len(effective_thresholds(predictions, floor, 300)) > 2
    if names and anchor is None:  # the names alone at the top: 5 in TEXTS, Paris and Berlin here, PS twice
        assert points[0].num_pred == 7 + 2 * abbreviations
    settings = {"name_fallback": names, "abbreviations": abbreviations, "name_anchor_floor": anchor}
    for point in points[:: max(1, len(points) // 4)]:
        at = Linker.from_pretrained(index_dir, model_dir, threshold=point.threshold, **settings)
        scores = score_linking(documents, at.link(documents))
        assert (scores.precision, scores.recall, scores.f1) == pytest.approx(
            (point.precision, point.recall, point.f1)
        ), point


def test_calibrate_uses_the_fallback_curve_when_the_model_falls_back(toy_model, tmp_path):
    import json
    import shutil

    from entqa_kit.evaluation.calibrate_run import calibrate

    model_dir, index_dir = toy_model
    model = tmp_path / "model"
    shutil.copytree(model_dir, model)
    config = json.loads((model / "entqa_config.json").read_text())
    config.setdefault("link", {})["name_fallback"] = True
    (model / "entqa_config.json").write_text(json.dumps(config))
    data = dev_file(tmp_path, ("Paris", "Q1"), ("Berlin", "Q3"))
    result = calibrate(data, index_dir=index_dir, model_dir=model, write=True, quiet=True)
    names_alone = result.points[0]  # γ above every reader score: the names find both golds
    assert names_alone.recall == 100.0 and names_alone.num_pred == 5  # Paris, Berlin, Tokyo; France, Berlin
    assert result.best.f1 == max(p.f1 for p in result.points) >= names_alone.f1
    saved = json.loads((model / "entqa_config.json").read_text())["link"]
    assert saved["name_fallback"] is True and saved["threshold"] == pytest.approx(result.best.threshold)


def test_calibrate_auto_keeps_the_better_curve_and_saves_the_choice(toy_model, tmp_path):
    import json
    import shutil

    from entqa_kit.core.errors import EntQAError
    from entqa_kit.evaluation.calibrate_run import calibrate

    model_dir, index_dir = toy_model
    model = tmp_path / "model"
    shutil.copytree(model_dir, model)
    data = dev_file(tmp_path, ("Paris", "Q1"), ("France", "Q2"))
    off = calibrate(data, index_dir=index_dir, model_dir=model, write=False, quiet=True, name_fallback="off")
    on = calibrate(data, index_dir=index_dir, model_dir=model, write=False, quiet=True, name_fallback="on")
    assert (off.record.name_fallback, on.record.name_fallback) == (False, True)
    auto = calibrate(data, index_dir=index_dir, model_dir=model, write=True, quiet=True, name_fallback="auto")
    better = on if on.best.f1 > off.best.f1 else off
    assert auto.record.name_fallback == better.record.name_fallback
    assert auto.best == better.best
    saved = json.loads((model / "entqa_config.json").read_text())["link"]
    assert saved["name_fallback"] is better.record.name_fallback
    with pytest.raises(EntQAError) as caught:
        calibrate(data, index_dir=index_dir, model_dir=model, write=False, quiet=True, name_fallback="maybe")
    assert caught.value.code == "E041"


def test_the_linker_matches_name_variants_when_its_setting_says_so(toy_model):
    from entqa_kit.linking.linker import Linker

    model_dir, index_dir = toy_model
    text = "Two breast cancers were seen."
    plain = Linker.from_pretrained(index_dir, model_dir)
    assert plain.name_matches(text) == []
    varied = Linker.from_pretrained(index_dir, model_dir, name_variants=True)
    found = [(text[m.start : m.end], m.entity_id) for m in varied.name_matches(text)]
    assert found == [("breast cancers", "Q8")]


def test_a_reader_span_below_gamma_is_linked_where_it_strictly_contains_a_name():
    from entqa_kit.linking.name_anchors import anchored_spans

    reader = [
        ScoredSpan(0, 16, "RENAL_HAMARTOMA", 0.4),  # "renal hamartomas" around the name "hamartomas"
        ScoredSpan(20, 30, "X", 0.9),  # above γ: kept as it is
        ScoredSpan(32, 40, "Y", 0.5),  # the name's own extent, not longer: not anchored
        ScoredSpan(44, 56, "Z", 0.02),  # below the floor
        ScoredSpan(25, 36, "W", 0.6),  # overlaps the span above γ
        ScoredSpan(58, 70, "LOW", 0.3),  # overlaps a better anchored span (best score first)
        ScoredSpan(60, 72, "HIGH", 0.45),
    ]
    names = [
        NameMatch(6, 16, "HAMARTOMA", "hamartomas", 1),
        NameMatch(32, 40, "N2", "n2", 2),
        NameMatch(46, 50, "N3", "n3", 3),
        NameMatch(27, 29, "N4", "n4", 4),
        NameMatch(62, 66, "N5", "n5", 5),
    ]
    kept = [s for s in reader if s.score > 0.8]
    got = anchored_spans(kept, reader, names, threshold=0.8, floor=0.05)
    assert [(s.start, s.end, s.entity, s.score) for s in got] == [
        (0, 16, "RENAL_HAMARTOMA", 0.8),
        (20, 30, "X", 0.9),
        (60, 72, "HIGH", 0.8),
    ]
    assert anchored_spans(kept, reader, [], threshold=0.8, floor=0.05) == [reader[1]]


def test_the_linker_anchors_reader_spans_on_names_before_the_fallback_fills_in(toy_model):
    from entqa_kit.linking.linker import Linker, decode_floor

    model_dir, index_dir = toy_model
    linker = Linker.from_pretrained(
        index_dir, model_dir, threshold=0.9, name_anchor_floor=0.05, name_fallback=True
    )
    assert linker.reading.config.threshold == 0.05 == decode_floor(linker.config)
    assert Linker.from_pretrained(index_dir, model_dir, threshold=0.9).reading.config.threshold == 0.9
    text = "We read about Paris Hilton and Berlin."
    document = Document(id="d", text=text)
    about = text.index("about")
    reader = [ScoredSpan(about, text.index(" and"), "Q5", 0.3), ScoredSpan(0, 2, "Q2", 0.95)]
    names = [(text[m.start : m.end], m.entity_id) for m in linker.name_matches(text)]
    assert names == [("Paris Hilton", "Q5"), ("Berlin", "Q3")]
    got = linker.post_process(document, reader, 0.9, True, False)
    assert [(text[s.start : s.end], s.entity, s.score) for s in got] == [
        ("We", "Q2", 0.95),
        ("about Paris Hilton", "Q5", 0.9),  # the reader's extent, anchored on the name inside it
        ("Berlin", "Q3", 0.9),  # the fallback
    ]
    plain = Linker.from_pretrained(index_dir, model_dir, threshold=0.9, name_fallback=True)
    got = plain.post_process(document, reader, 0.9, True, False)
    assert [text[s.start : s.end] for s in got] == ["We", "Paris Hilton", "Berlin"]


def test_link_takes_the_anchor_floor_from_the_command_line(toy_model, tmp_path):
    import json

    from typer.testing import CliRunner

    from entqa_kit.cli.main import app
    from entqa_kit.linking.linker import Linker

    model_dir, index_dir = toy_model
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(TEXTS[0])
    settings = {"threshold": 0.999999, "name_fallback": True, "name_anchor_floor": 0.001}
    out = tmp_path / "pred.jsonl"
    args = ["link", str(docs), "--index", str(index_dir), "--model", str(model_dir), "--out", str(out)]
    flags = ["--threshold", "0.999999", "--name-fallback", "--name-anchor-floor", "0.001", "-q"]
    result = CliRunner().invoke(app, [*args, *flags])
    assert result.exit_code == 0, result.output
    linked = [(m["start"], m["end"], m["entity"]) for m in json.loads(out.read_text())["mentions"]]
    expected = Linker.from_pretrained(index_dir, model_dir, **settings).link([TEXTS[0]])[0].mentions
    assert linked == [(m.start, m.end, m.entity) for m in expected] != []
    refused = CliRunner().invoke(app, [*args, "--name-anchor-floor", "1.5"])
    assert refused.exit_code == 2 and "--name-anchor-floor" in refused.output
