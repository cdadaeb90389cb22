"""Alias rows with the shipped default model: retriever R@K (and linking F1 where cheap) with and
without them, on NCBI-disease dev against MEDIC, the example KB, and a football KB of nicknames.

Each case builds two indexes of the same KB with the shipped model's entity tower, one plain and
one with ``--alias-rows`` (aliases as extra rows of their entity), then runs what
``entqa-kit evaluate DATA --index IDX --stage retriever [-k K]`` (and ``--stage linking``) runs.
The equivalent commands:

    entqa-kit index KB --out W/plain
    entqa-kit index KB --out W/alias --alias-rows
    entqa-kit evaluate DATA --index W/{plain,alias} --stage retriever -k K
    entqa-kit evaluate DATA --index W/{plain,alias}            # linking F1 (example KBs only)

Usage: python benchmarks/alias_rows.py [--work DIR] [--cases ncbi,example,nicknames] [--max-alias-rows 16]
Indexes are kept under --work (default /tmp/entqa-alias-rows) and reused when up to date.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from entqa_kit.evaluation.evaluate_run import evaluate
from entqa_kit.index.build import build_index
from entqa_kit.index.settings import resolve_entity_encoder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CASES = {
    # name: (KB, documents, K of R@K, also link for F1)
    "ncbi": (
        DATA / "medic" / "medic.umls.jsonl",
        DATA / "ncbi-disease" / "NCBIdevelopset_corpus.txt",
        10,
        False,
    ),
    "example": (ROOT / "examples" / "kb" / "entities.jsonl", ROOT / "examples" / "docs.jsonl", 5, True),
    "nicknames": (
        ROOT / "examples" / "nicknames" / "clubs.jsonl",
        ROOT / "examples" / "nicknames" / "docs.jsonl",
        3,
        True,
    ),
}


def run_case(name: str, work: Path, max_alias_rows: int) -> list[dict]:
    kb, docs, k, link = CASES[name]
    encoder = resolve_entity_encoder()
    rows = []
    for label, alias_rows in (("plain", 0), ("alias rows", max_alias_rows)):
        out = work / name / ("alias" if alias_rows else "plain")
        started = time.perf_counter()
        built = build_index(kb, out, encoder, quiet=True, alias_rows=alias_rows)
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        recall = evaluate(docs, index_dir=out, stage="retriever", top_k=k, quiet=True)
        row = {
            "case": name,
            "index": label,
            "entities": built.count,
            "rows": built.rows,
            "build_s": round(build_seconds, 1),
            "reused": built.reused,
            **{f"R@{key}": round(value, 2) for key, value in recall.recall_at.items()},
            "passages": recall.num_passages,
            "retrieve_s": round(time.perf_counter() - started, 1),
        }
        if link:
            scores = evaluate(docs, index_dir=out, stage="linking", quiet=True).scores.as_json()
            row.update({key: scores[key] for key in ("precision", "recall", "f1") if key in scores})
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    """One markdown table; every case's R@K columns, in order of K."""
    recall = sorted({c for row in rows for c in row if c.startswith("R@")}, key=lambda c: int(c[2:]))
    columns = ["case", "index", "entities", "rows", "build_s", *recall, "passages", "retrieve_s"]
    columns += [c for c in ("precision", "recall", "f1") if any(c in row for row in rows)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/entqa-alias-rows"))
    parser.add_argument("--cases", default="example,nicknames,ncbi")
    parser.add_argument("--max-alias-rows", type=int, default=16)
    args = parser.parse_args()
    rows = []
    for name in args.cases.split(","):
        kb, docs, _, _ = CASES[name]
        if not kb.is_file() or not docs.is_file():
            print(f"skipping {name}: {kb} or {docs} is absent")
            continue
        rows += run_case(name, args.work, args.max_alias_rows)
    if rows:
        print(table(rows))


if __name__ == "__main__":
    main()
