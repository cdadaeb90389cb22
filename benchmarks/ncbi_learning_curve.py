"""Domain adaptation on NCBI-disease against MEDIC: zero-shot, then adapted with 10, 50 and all documents.

Steps, each through the `entqa-kit` CLI (so the figures are what a user gets):
  zero-shot  the AIDA-trained default model on NCBI test, with its own γ and with γ calibrated on NCBI dev
             (index: MEDIC encoded by the default model's entity tower, no aliases, as that model expects)
  n docs     `train --recipe recipes/ncbi-disease.toml --set data.train_docs=n` (both stages, from the
             default model), `calibrate` on NCBI dev, `evaluate` on NCBI test

Usage:
  python benchmarks/ncbi_learning_curve.py --sizes 10,50,all [--skip-zero-shot]
Prints one JSON line per step and a markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from cli_json import cli  # benchmarks/cli_json.py (scripts run from this folder)

DATA = Path("../shared/data")
MEDIC = DATA / "medic" / "medic.umls.jsonl"
DEV = DATA / "ncbi-disease" / "NCBIdevelopset_corpus.txt"
TEST = DATA / "ncbi-disease" / "NCBItestset_corpus.txt"
RECIPE = "recipes/ncbi-disease.toml"
ALIAS_INDEX = "runs/medic-minilm-index"
DEFAULT_INDEX = "runs/medic-default-index"


def evaluate(model: str, index: str) -> tuple[dict, float]:
    return cli("evaluate", str(TEST), "--index", index, "--model", model)


def calibrate(model: str, index: str) -> dict:
    result, seconds = cli("calibrate", str(DEV), "--index", index, "--model", model)
    return {"threshold": result["threshold"], "dev_f1": result["f1"], "calibrate_seconds": round(seconds, 1)}


def emit(row: dict, rows: list[dict]) -> None:
    rows.append(row)
    print(json.dumps(row), flush=True)


def zero_shot(rows: list[dict]) -> None:
    from entqa_kit.models.default import default_model_dir

    if not (Path(DEFAULT_INDEX) / "manifest.json").is_file():
        cli("index", str(MEDIC), "--out", DEFAULT_INDEX)
    model = Path("runs/ncbi-zero-shot")
    shutil.rmtree(model, ignore_errors=True)
    shutil.copytree(default_model_dir(), model)
    scores, seconds = evaluate(str(model), DEFAULT_INDEX)
    emit({"setting": "zero-shot, AIDA γ", "docs": 0, **scores, "eval_seconds": round(seconds, 1)}, rows)
    calibrated = calibrate(str(model), DEFAULT_INDEX)
    scores, seconds = evaluate(str(model), DEFAULT_INDEX)
    emit({"setting": "zero-shot, γ from NCBI dev", "docs": 0, **scores, **calibrated}, rows)


def adapted(size: str, rows: list[dict]) -> None:
    model = f"runs/ncbi-adapted-{size}"
    overrides = [] if size == "all" else ["--set", f"data.train_docs={size}"]
    trained, train_seconds = cli("train", "--recipe", RECIPE, "--out", model, *overrides)
    calibrated = calibrate(model, ALIAS_INDEX)
    scores, seconds = evaluate(model, ALIAS_INDEX)
    emit(
        {
            "setting": f"adapted, {size} docs",
            "docs": size,
            **scores,
            **calibrated,
            "train_minutes": round(train_seconds / 60, 1),
            "dev_recall_at": (trained.get("dev") or {}).get("recall_at"),
            "eval_seconds": round(seconds, 1),
        },
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,50,all")
    parser.add_argument("--skip-zero-shot", action="store_true")
    args = parser.parse_args()
    print(json.dumps({"machine_cores": os.cpu_count(), "recipe": RECIPE}), flush=True)
    rows: list[dict] = []
    if not args.skip_zero_shot:
        zero_shot(rows)
    for size in args.sizes.split(","):
        adapted(size, rows)
    print("\n| setting | γ | P | R | F1 | MD F1 | R@K | train min |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        recall = ", ".join(f"R@{k} {v:.1f}" for k, v in (r.get("recall_at") or {}).items())
        print(
            f"| {r['setting']} | {r.get('threshold', '(saved)')} | {r['precision']:.2f} | "
            f"{r['recall']:.2f} | {r['f1']:.2f} | {r['md_f1']:.2f} | {recall} | "
            f"{r.get('train_minutes', '')} |"
        )


if __name__ == "__main__":
    main()
