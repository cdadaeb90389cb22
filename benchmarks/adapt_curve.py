"""Adaptation without (or with few) labels on NCBI-disease against MEDIC: the learning curve of issue 13.

Run as a user would, through the `entqa-kit` CLI:
  unlabelled text  NCBI train + dev abstracts, their labels ignored (`silver`/`adapt` never read them)
  labelled docs    the first N abstracts of NCBI train (N = 0, 10, 50, all 593), as Document JSONL
  γ                calibrated on NCBI dev; scores on NCBI test (`evaluate`, InKB strong match)
Rows:
  name matching    `silver` on NCBI test scored as predictions (`evaluate --predictions`): the line to beat;
                   plain (the issue's baseline), and with `--variants --abbreviations` (what `adapt` makes
                   its silver mentions with: British spellings, plurals, and short forms of matched names)
  with silver      `adapt MEDIC --unlabelled train+dev [--labelled first-N] --dev dev --budget-minutes B`
  without silver   the recipe `adapt` wrote, retrained without `data.unlabelled` (`train --recipe ...
                   --set data.unlabelled=null`), calibrated and evaluated the same way (N > 0 only; N = 0
                   without silver is the shipped model zero-shot)

Usage:
  python benchmarks/adapt_curve.py [--sizes 0,10,50,all] [--budget-minutes 20] [--no-without-silver]
                                   [--init-from MODEL_DIR] [--work DIR] [--all-model MODEL_DIR]
                                   [--all-index INDEX_DIR]
Prints one JSON line per step and a markdown table of every row measured so far (kept in
WORK/rows.jsonl, default runs/adapt-curve, so the sizes can be run in several sessions), and writes
WORK/curve.png. --all-model adds the row of a model trained on all 593 labelled abstracts (e.g. by
recipes/ncbi-disease.toml), evaluated the same way. γ and the name fallback (on/off) are chosen on NCBI dev
(`calibrate --name-fallback auto`, which `adapt` runs too).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from cli_json import cli  # benchmarks/cli_json.py (scripts run from this folder)

DATA = Path("../shared/data")
MEDIC = DATA / "medic" / "medic.umls.jsonl"
TRAIN = DATA / "ncbi-disease" / "NCBItrainset_corpus.txt"
DEV = DATA / "ncbi-disease" / "NCBIdevelopset_corpus.txt"
TEST = DATA / "ncbi-disease" / "NCBItestset_corpus.txt"
WORK = Path("runs/adapt-curve")
INDEX = Path("runs/adapt-curve/medic-index")  # MEDIC by the shipped model's entity tower, for every run


def cpu_minutes(before: os.times_result) -> float:
    after = os.times()
    return round(
        (after.children_user + after.children_system - before.children_user - before.children_system) / 60, 1
    )


def unlabelled_text() -> Path:
    """NCBI train + dev abstracts in one PubTator file (labels and all: `adapt` ignores them)."""
    path = WORK / "ncbi-train-dev.txt"
    if not path.is_file():
        WORK.mkdir(parents=True, exist_ok=True)
        path.write_text(TRAIN.read_text(encoding="utf-8") + "\n" + DEV.read_text(encoding="utf-8"))
    return path


def first_labelled(size: str) -> Path:
    """The first ``size`` NCBI train abstracts as Document JSONL, labels resolved against MEDIC."""
    from entqa_kit.adaptation.document_files import write_documents
    from entqa_kit.documents import load_documents
    from entqa_kit.index.kb_source import open_kb

    path = WORK / f"ncbi-train-first-{size}.jsonl"
    if not path.is_file():
        with open_kb(INDEX) as opened:
            documents = load_documents(TRAIN, opened.kb, "pubtator").documents
        write_documents(documents if size == "all" else documents[: int(size)], path)
    return path


def evaluate(model: Path, row: dict, rows: list[dict], before: os.times_result, index: Path = INDEX) -> None:
    scores, seconds = cli("evaluate", str(TEST), "--index", str(index), "--model", str(model))
    row |= {k: scores[k] for k in ("precision", "recall", "f1", "md_f1") if k in scores}
    row |= {"eval_seconds": round(seconds, 1), "cpu_minutes": cpu_minutes(before)}
    rows.append(row)
    print(json.dumps(row), flush=True)


NAME_MATCHING = {
    "name matching": [],
    "name matching + variants + abbreviations": ["--variants", "--abbreviations"],
}


def name_matching(rows: list[dict]) -> None:
    for setting, options in NAME_MATCHING.items():
        before = os.times()
        silver = WORK / f"name-matching-test{''.join('-' + o.strip('-') for o in options)}.jsonl"
        cli("silver", str(MEDIC), str(TEST), "--out", str(silver), *options)
        scores, _ = cli("evaluate", str(TEST), "--index", str(MEDIC), "--predictions", str(silver))
        row = {"setting": setting, "docs": 0, "silver": "—"}
        row |= {k: scores[k] for k in ("precision", "recall", "f1", "md_f1") if k in scores}
        row |= {"cpu_minutes": cpu_minutes(before)}
        rows.append(row)
        print(json.dumps(row), flush=True)


def all_labelled(model: Path, index: Path, rows: list[dict]) -> None:
    """The row of a model trained on all labelled abstracts (calibrated already), evaluated here."""
    row = {"setting": f"all labelled ({model.name})", "docs": "all", "silver": "no"}
    evaluate(model, row, rows, os.times(), index)


def with_silver(size: str, budget: float, rows: list[dict], init_from: str | None) -> Path:
    """``adapt`` (continued with --resume when an earlier run left its recipe: a finished one only
    calibrates again), then ``evaluate``."""
    out = WORK / f"adapt-{size}"
    before = os.times()
    labelled = [] if size == "0" else ["--labelled", str(first_labelled(size))]
    index = ["--index", str(INDEX)] if not (INDEX / "manifest.json").is_file() else []
    source = str(MEDIC) if index else str(INDEX)
    resume = ["--resume"] if (out / "recipe.toml").is_file() else []
    resume += ["--init-from", init_from] if init_from else []
    result, seconds = cli(
        "adapt", source, "--unlabelled", str(unlabelled_text()), *labelled, "--dev", str(DEV),
        "--out", str(out), "--budget-minutes", str(budget), *index, *resume,
    )  # fmt: skip
    row = {"setting": f"adapt, {size} labelled + silver", "docs": size, "silver": "yes"}
    row |= {"threshold": result["threshold"], "dev_f1": (result["calibration"] or {}).get("f1")}
    row |= {"name_fallback": (result["calibration"] or {}).get("name_fallback")}
    row |= {"adapt_minutes": round(seconds / 60, 1)}
    evaluate(out, row, rows, before)
    return out


def without_silver(size: str, adapted: Path, rows: list[dict]) -> None:
    before = os.times()
    out = WORK / f"labelled-only-{size}"
    started = time.perf_counter()
    cli("train", "--recipe", str(adapted / "recipe.toml"), "--out", str(out), "--set", "data.unlabelled=null")
    calibrated, _ = cli(
        "calibrate", str(DEV), "--index", str(INDEX), "--model", str(out), "--name-fallback", "auto"
    )
    row = {"setting": f"{size} labelled, no silver", "docs": size, "silver": "no"}
    row |= {"threshold": calibrated["threshold"], "dev_f1": calibrated["f1"]}
    row |= {"name_fallback": calibrated.get("name_fallback")}
    row |= {"adapt_minutes": round((time.perf_counter() - started) / 60, 1)}
    evaluate(out, row, rows, before)


def merged_rows(rows: list[dict], path: Path) -> list[dict]:
    """This run's rows over those saved by earlier runs (same setting: this run wins); saved again."""
    saved = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    fresh = {r["setting"] for r in rows}
    merged = [r for r in saved if r["setting"] not in fresh] + rows
    order = {"—": 0, "0": 1, "10": 2, "50": 3, "all": 4}
    merged.sort(key=lambda r: (order.get(str(r["docs"]), 5) if r["silver"] != "—" else 0, r["silver"]))
    path.write_text("".join(json.dumps(r) + "\n" for r in merged))
    return merged


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = {"0": 0, "10": 10, "50": 50, "all": 593}
    figure, axis = plt.subplots(figsize=(6, 4))
    for silver, label in (("yes", "with silver"), ("no", "labelled only")):
        points = sorted((order[str(r["docs"])], r["f1"]) for r in rows if r["silver"] == silver)
        if points:
            axis.plot(*zip(*points), marker="o", label=label)
    for r in rows:
        if r["silver"] == "—":
            style = ":" if "variants" in r["setting"] else "--"
            axis.axhline(r["f1"], linestyle=style, color="grey", label=f"{r['setting']} ({r['f1']:.1f})")
    axis.set_xscale("symlog", linthresh=10)
    axis.set_xlim(left=-1, right=1500)
    axis.set_xlabel("labelled NCBI train documents")
    axis.set_ylabel("NCBI test InKB F1")
    axis.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def set_work(path: Path) -> None:
    global WORK
    WORK = path
    WORK.mkdir(parents=True, exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="0,10,50,all")
    parser.add_argument("--budget-minutes", type=float, default=20.0)
    parser.add_argument("--no-without-silver", action="store_true")
    parser.add_argument("--init-from", help="starting model (default: the shipped one)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the runs and rows go")
    parser.add_argument("--all-model", type=Path, help="a model trained on all labelled abstracts")
    parser.add_argument("--all-index", type=Path, help="its index (the recipe's data.index)")
    args = parser.parse_args()
    set_work(args.work)
    print(json.dumps({"machine_cores": os.cpu_count(), "budget_minutes": args.budget_minutes}), flush=True)
    rows: list[dict] = []
    name_matching(rows)
    if args.all_model:
        all_labelled(args.all_model, args.all_index or INDEX, rows)
    for size in filter(None, args.sizes.split(",")):
        adapted = with_silver(size, args.budget_minutes, rows, args.init_from)
        if size != "0" and not args.no_without_silver:
            without_silver(size, adapted, rows)
    rows = merged_rows(rows, WORK / "rows.jsonl")
    print("\n| setting | labelled docs | silver | γ | name fallback | P | R | F1 | MD F1 | CPU min |")
    print("|---|---:|---|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        fallback = {True: "on", False: "off"}.get(r.get("name_fallback"), "")
        gamma = f"{r['threshold']:.3f}" if "threshold" in r else ""
        print(
            f"| {r['setting']} | {r['docs']} | {r['silver']} | {gamma} | {fallback} | "
            f"{r['precision']:.2f} | {r['recall']:.2f} | {r['f1']:.2f} | {r.get('md_f1', 0):.2f} | "
            f"{r['cpu_minutes']} |"
        )
    plot(rows, WORK / "curve.png")
    print(f"\nPlot: {WORK / 'curve.png'}")


if __name__ == "__main__":
    main()
