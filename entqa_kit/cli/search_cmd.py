"""``entqa-kit search``: the top entities of an index for a query text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entqa_kit.cli.common import JsonOutput, print_json, user_errors


@user_errors
def search_cli(
    index_dir: Annotated[Path, typer.Argument(help="Index directory built by 'entqa-kit index'.")],
    query: Annotated[str, typer.Argument(help="Query text.")],
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, help="Number of entities to return.")] = 10,
    json_output: JsonOutput = False,
) -> None:
    """Print the top-k entities for QUERY as a table (or JSON with --json)."""
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.index.search import search_index

    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that are not UTF-8 arrive as lone surrogates
        raise EntQAError(
            "E081", what="the query", detail=f"undecodable byte at character {exc.start}"
        ) from None
    hits = search_index(index_dir, [query], k)[0]
    if json_output:
        print_json([{"id": h.id, "title": h.title, "score": round(h.score, 6)} for h in hits])
        return
    from rich.console import Console
    from rich.table import Table

    from entqa_kit.core.display import literal

    table = Table(title=f"Top {len(hits)} for {literal(repr(query))}")
    for column, justify in (("rank", "right"), ("id", "left"), ("title", "left"), ("score", "right")):
        table.add_column(column, justify=justify)
    for hit in hits:
        table.add_row(str(hit.rank), literal(hit.id), literal(hit.title), f"{hit.score:.4f}")
    Console().print(table)
