"""The HTML page of linked documents: escaping, links, hover content; rendered by headless Chromium."""

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from entqa_kit.core.records import Document, Entity, LinkedDocument, LinkedSpan
from entqa_kit.io.html_report import render_html, write_html

TEXT = "Paris & <Tokyo> met in São Paulo."
DOCUMENT = Document(id="d<1>", text=TEXT)
LINKED = LinkedDocument(
    id="d<1>",
    mentions=[
        LinkedSpan(start=0, end=5, text="Paris", entity="Q1", title="Paris", score=0.91),
        LinkedSpan(start=9, end=14, text="Tokyo", entity="Q/2", title="Tokyo", score=0.12),
        LinkedSpan(start=23, end=32, text="São Paulo", entity="Q3", title="São Paulo", score=0.4),
    ],
)
ENTITIES = {
    "Q1": Entity(id="Q1", title="Paris", description="Capital of France & its largest city."),
    "Q/2": Entity(id="Q/2", title="Tokyo", description='Capital of Japan, "the East capital".'),
    "Q3": Entity(id="Q3", title="São Paulo", description="Largest city of Brazil."),
}


class Mentions(HTMLParser):
    """Collects each mention link's attributes and its visible text (without the tooltip)."""

    def __init__(self):
        super().__init__()
        self.links, self.anchors, self._open = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.anchors.add(attrs["id"])
        if tag == "a" and "mention" in attrs.get("class", ""):
            self.links.append({**attrs, "text": ""})
            self._open = [False]
        elif self._open and tag != "br":
            self._open.append(self._open[-1] or "tip" in attrs.get("class", ""))

    def handle_endtag(self, tag):
        if self._open and tag != "br":
            self._open.pop()

    def handle_data(self, data):
        if self._open and not self._open[-1]:
            self.links[-1]["text"] += data


def test_page_highlights_each_mention_with_its_entity_and_escapes_text():
    page = render_html([DOCUMENT], [LINKED], ENTITIES)
    parser = Mentions()
    parser.feed(page)
    assert [link["text"] for link in parser.links] == ["Paris", "Tokyo", "São Paulo"]
    assert [link["data-entity"] for link in parser.links] == ["Q1", "Q/2", "Q3"]
    assert all(link["href"][1:] in parser.anchors for link in parser.links), "each mention links its entry"
    assert parser.links[0]["title"] == "Paris: Capital of France & its largest city."
    assert "&amp; &lt;<a" in page and "&gt; met in" in page
    assert parser.links[0]["class"].endswith("high") and parser.links[1]["class"].endswith("low")
    assert '<span class="score">0.91</span>' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_chromium_renders_the_page(tmp_path):
    path = tmp_path / "linked.html"
    write_html(path, render_html([DOCUMENT], [LINKED], ENTITIES, subtitle="test"))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
    ]
    flags += ["--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = Mentions()
    parser.feed(dom.stdout)
    assert [link["text"] for link in parser.links] == ["Paris", "Tokyo", "São Paulo"]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1000,700", path.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
