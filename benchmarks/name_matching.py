"""The name-matching baseline: KB titles and aliases found in text, scored as linking predictions.

NCBI-disease against MEDIC: each setting (ambiguity policy, --min-chars, --max-doc-share, case rule,
stop list) is varied one at a time on NCBI DEV, starting from plain name matching and keeping a value
when it beats the current one by more than 0.25 F1 (one pass of coordinate ascent). The chosen setting
is then run once on NCBI TEST through the CLI (`entqa-kit silver` + `entqa-kit evaluate --predictions`),
so the figure is what a user gets.
AIDA-A (testa) against the shared wiki KB gives a general-domain figure with the same settings.

Usage:
  python benchmarks/name_matching.py [--skip-aida]
Prints one JSON line per run and markdown tables at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from entqa_kit.core.records import LinkedDocument, LinkedSpan
from entqa_kit.documents import load_documents
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.index.kb_source import open_kb
from entqa_kit.kb.name_matcher import MatcherOptions, NameMatcher

DATA = Path("../shared/data")
MEDIC = DATA / "medic" / "medic.umls.jsonl"
DEV = DATA / "ncbi-disease" / "NCBIdevelopset_corpus.txt"
TEST = DATA / "ncbi-disease" / "NCBItestset_corpus.txt"
WIKI = DATA / "kb" / "wiki_kb.kilt.jsonl"
AIDA = DATA / "aida" / "AIDA-YAGO2-dataset.tsv"
CLI = [str(Path(sys.executable).with_name("entqa-kit"))]

GRID = {
    "ambiguous": ["canonical", "skip", "all"],
    "min_chars": [2, 3, 4, 5],
    "max_doc_share": [None, 0.5, 0.3, 0.2, 0.1, 0.05],
    "case": ["auto", "exact", "insensitive"],
    "stop_words": ["built-in", "none"],
}


def options_of(setting: dict) -> MatcherOptions:
    stop = frozenset() if setting["stop_words"] == "none" else MatcherOptions().stop_words
    values = {k: v for k, v in setting.items() if k != "stop_words"}
    return replace(MatcherOptions(), **values, stop_words=stop)


def score(kb, documents, setting: dict, matchers: dict) -> dict:
    """Match with ``setting`` (a matcher is built once per name-level setting) and score."""
    options = options_of(setting)
    build_key = (options.min_chars, options.ambiguous, options.case, setting["stop_words"])
    if build_key not in matchers:
        started = time.perf_counter()
        matchers[build_key] = (NameMatcher.from_kb(kb, options), time.perf_counter() - started)
    matcher, build_seconds = matchers[build_key]
    matcher.options = options  # the corpus filter only; the names are those built for build_key
    started = time.perf_counter()
    corpus = matcher.match_corpus([d.text for d in documents.documents])
    match_seconds = time.perf_counter() - started
    predictions = [
        LinkedDocument(
            id=d.id,
            mentions=[
                LinkedSpan(start=m.start, end=m.end, text="", entity=m.entity_id, title="", score=1.0)
                for m in found
            ],
        )
        for d, found in zip(documents.documents, corpus.matches)
    ]
    scores = score_linking(documents.documents, predictions)
    return {
        **setting,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "md_f1": scores.md_f1,
        "num_pred": scores.num_pred,
        "frequent": sorted(corpus.frequent),
        "build_seconds": round(build_seconds, 2),
        "match_seconds": round(match_seconds, 3),
    }


def emit(row: dict, rows: list[dict]) -> None:
    rows.append(row)
    print(json.dumps(row), flush=True)


START = {
    "ambiguous": "canonical",
    "min_chars": 3,
    "max_doc_share": None,
    "case": "auto",
    "stop_words": "built-in",
}
"""Where the search starts: the plain name-matching baseline of the issue (no document-share filter)."""
MARGIN = 0.25
"""A value replaces the current one only when its dev F1 is higher by more than this (about two of
the 771 dev gold mentions), so noise does not move a setting."""


def tune_on_dev(rows: list[dict]) -> dict:
    """One pass over the settings, each varied from the best so far."""
    best = dict(START)
    with open_kb(MEDIC) as opened:
        documents = load_documents(DEV, opened.kb, "pubtator")
        matchers: dict = {}
        for name, values in GRID.items():
            f1 = {}
            for value in values:
                row = score(opened.kb, documents, {**best, name: value}, matchers)
                emit({"data": "ncbi-dev", "varied": name, **row}, rows)
                f1[value] = row["f1"]
            top = max(f1, key=lambda value: f1[value])
            if f1[top] > f1[best[name]] + MARGIN:
                best[name] = top
    return best


def cli(*args: str) -> dict:
    done = subprocess.run([*CLI, *args, "--json", "-q"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: entqa-kit {' '.join(args)}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_flags(setting: dict) -> list[str]:
    flags = ["--ambiguous", setting["ambiguous"], "--min-chars", str(setting["min_chars"])]
    flags += ["--case", setting["case"]]
    if setting["max_doc_share"] is not None:
        flags += ["--max-doc-share", str(setting["max_doc_share"])]
    return flags


def run_cli(kb: Path, data: Path, setting: dict, extra: list[str], label: str, rows: list[dict]) -> None:
    """`silver` then `evaluate --predictions`, as a user runs them."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "silver.jsonl"
        stop = []
        if setting["stop_words"] == "none":
            (Path(tmp) / "none.txt").write_text("", encoding="utf-8")
            stop = ["--stop-words", str(Path(tmp) / "none.txt")]
        started = time.perf_counter()
        silver = cli("silver", str(kb), str(data), "--out", str(out), *cli_flags(setting), *stop, *extra)
        seconds = time.perf_counter() - started
        scores = cli("evaluate", str(data), "--index", str(kb), "--predictions", str(out), *extra)
    emit(
        {
            "data": label,
            **setting,
            "precision": scores["precision"],
            "recall": scores["recall"],
            "f1": scores["f1"],
            "md_f1": scores["md_f1"],
            "num_gold": scores["num_gold"],
            "num_pred": scores["num_pred"],
            "names_kept": silver["names"]["kept"],
            "dropped": silver["names"]["dropped"],
            "frequent": sorted(silver["frequent"]),
            "silver_seconds": round(seconds, 1),
        },
        rows,
    )


def table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-aida", action="store_true")
    args = parser.parse_args()
    rows: list[dict] = []
    best = tune_on_dev(rows)
    print(json.dumps({"chosen_on_dev": best}), flush=True)
    run_cli(MEDIC, DEV, best, [], "ncbi-dev (CLI)", rows)
    run_cli(MEDIC, TEST, best, [], "ncbi-test (CLI)", rows)
    if not args.skip_aida:
        aida = ["--format", "aida", "--split", "testa"]
        # the wiki KB has titles only (one shared name), so the ambiguity policy changes nothing there
        for case in ("auto", "insensitive"):
            run_cli(WIKI, AIDA, {**best, "case": case}, aida, "aida-a (CLI)", rows)
    columns = [
        "data",
        "varied",
        "ambiguous",
        "min_chars",
        "max_doc_share",
        "case",
        "stop_words",
        "precision",
        "recall",
        "f1",
        "md_f1",
        "num_pred",
        "build_seconds",
    ]
    print()
    print(table(rows, columns))


if __name__ == "__main__":
    main()
