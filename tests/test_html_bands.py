"""HTML report: shades relative to the model's γ, and one anchor per entity id."""

from html.parser import HTMLParser

from entqa_kit.core.records import Document, Entity, LinkedDocument, LinkedSpan
from entqa_kit.io.html_report import _anchor, band_limits, render_html


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.classes, self.hrefs, self.ids = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.classes.append(attrs["class"].split()[-1])
            self.hrefs.append(attrs["href"])
        if tag == "dt":
            self.ids.append(attrs["id"])


def test_shades_follow_the_models_threshold():
    text = "Paris and France and Berlin."
    linked = LinkedDocument(
        id="d",
        mentions=[
            LinkedSpan(start=0, end=5, text="Paris", entity="Q1", title="Paris", score=0.2),
            LinkedSpan(start=10, end=16, text="France", entity="Q2", title="France", score=0.05),
            LinkedSpan(start=21, end=27, text="Berlin", entity="Q3", title="Berlin", score=0.01),
        ],
    )
    page = render_html([Document(id="d", text=text)], [linked], {}, threshold=0.0043, reader_kind="pair")
    parser = Links()
    parser.feed(page)
    assert parser.classes == ["high", "mid", "low"], "a correct link at 0.2 is high when γ is 0.0043"
    assert "threshold γ = 0.0043" in page and "p_rerank × p_span" in page
    high, mid = band_limits(0.0043)
    assert round(high, 3) == 0.163 and round(mid, 3) == 0.026


def test_legend_names_the_joint_readers_score():
    page = render_html(
        [Document(id="d", text="Paris.")], [LinkedDocument(id="d", mentions=[])], {}, threshold=0.4
    )
    assert "p_start × p_end × p_entity" in page and "p_rerank" not in page


def test_anchors_are_one_to_one():
    ids = ["MESH:D1", "MESH_D1", "MESH-D1", "MESH D1", "Q/2", "Q_2f_2", "São", "S_e3_o"]
    anchors = [_anchor(i) for i in ids]
    assert len(set(anchors)) == len(ids)
    assert _anchor("MESH:D1") == "entity-MESH_3a_D1" and _anchor("MESH_D1") == "entity-MESH_5f_D1"
    text = "D1 and D1."
    linked = LinkedDocument(
        id="d",
        mentions=[
            LinkedSpan(start=0, end=2, text="D1", entity="MESH:D1", title="A", score=0.9),
            LinkedSpan(start=7, end=9, text="D1", entity="MESH_D1", title="B", score=0.9),
        ],
    )
    entities = {i: Entity(id=i, title=t) for i, t in (("MESH:D1", "A"), ("MESH_D1", "B"))}
    parser = Links()
    parser.feed(render_html([Document(id="d", text=text)], [linked], entities, threshold=0.01))
    assert len(parser.hrefs) == 2 and parser.hrefs[0] != parser.hrefs[1]
    assert sorted(h[1:] for h in parser.hrefs) == sorted(parser.ids)
