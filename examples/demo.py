"""`make demo`: index the example KB (cached) and run a few dense searches.

Linking comes with the reader (issue 4); until then the demo shows the retriever's
side of EntQA: candidate entities for a piece of text, from the KB alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from entqa_kit.errors import EntQAError
from entqa_kit.indexing import build_index
from entqa_kit.search import search_index

HERE = Path(__file__).parent
KB_FILE = HERE / "kb" / "entities.jsonl"
INDEX_DIR = HERE / ".cache" / "index"
QUERIES = (
    "Jaguar unveiled a new electric sports car in Coventry.",
    "The jaguar hunted along the banks of the river in the rainforest.",
    "Mutations in BRCA1 raise the risk of breast cancer.",
    "She wrote the web service in Python.",
    "United beat City 2-1 at Old Trafford.",
)


def main() -> int:
    console = Console()
    try:
        result = build_index(KB_FILE, INDEX_DIR)
        state = "cached" if result.reused else f"built in {result.seconds:.1f} s"
        console.print(f"[bold]Index[/bold] {INDEX_DIR} ({result.count} entities, {state})\n")
        hits_per_query = search_index(INDEX_DIR, QUERIES, k=3)
    except EntQAError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    table = Table(title="Top-3 candidate entities per text (dense retrieval, default MiniLM)")
    table.add_column("text", max_width=40)
    table.add_column("rank", justify="right")
    table.add_column("entity")
    table.add_column("score", justify="right")
    for query, hits in zip(QUERIES, hits_per_query):
        table.add_section()
        for hit in hits:
            first = hit.rank == 1
            table.add_row(
                query if first else "",
                str(hit.rank),
                f"{hit.title} [dim]({hit.id})[/dim]",
                f"{hit.score:.3f}",
            )
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
