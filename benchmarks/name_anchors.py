"""Name-anchored reader spans (``link.name_anchor_floor``) on dev: the floor that chose the setting.

For each model: its reader links the dev documents once at a low floor with nothing added; then for
each anchor floor (``none``: off) the curve of ``post_processed_curve`` (the name fallback, the
anchored spans and the abbreviations filled in at each γ, as ``Linker.post_process`` does when linking)
gives its best γ and F1, as ``entqa-kit calibrate --name-fallback on`` would. Test splits are not read.

Usage:
  python benchmarks/name_anchors.py --dev ../shared/data/ncbi-disease/NCBIdevelopset_corpus.txt \\
      --model runs/ncbi-joint-e6 --index runs/medic-minilm-index [--model M2 --index I2 ...] \\
      [--floors none,0.01,0.05,0.2,0.5]
Prints one JSON line per model and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from entqa_kit.documents import load_labelled_documents
from entqa_kit.evaluation.calibration import best_point
from entqa_kit.evaluation.post_processed_curve import post_processed_curve
from entqa_kit.linking.linker import Linker

FLOOR = 0.001


def sweep(model: str, index: str, dev: Path, floors: list[float | None]) -> dict:
    started = time.process_time()
    off = {"name_fallback": False, "abbreviations": False}
    linker = Linker.from_pretrained(index, model, threshold=FLOOR, **off)
    abbreviations = Linker.from_pretrained(index, model).config.abbreviations
    documents = load_labelled_documents(dev, linker.index.kb).documents
    predictions = linker.link(documents)
    row: dict = {"model": model, "dev": dev.name, "labelled_names": linker.labelled_names is not None}
    for floor in floors:
        linker.config = linker.config.model_copy(update={"name_anchor_floor": floor})

        def post(document, spans, cut):
            return linker.post_process(document, spans, cut, True, abbreviations)

        best = best_point(post_processed_curve(documents, predictions, post, FLOOR))
        row[str(floor)] = {
            "gamma": round(best.threshold, 4),
            "p": best.precision,
            "r": best.recall,
            "f1": best.f1,
        }
    row["cpu_s"] = round(time.process_time() - started, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--index", action="append", required=True)
    parser.add_argument("--floors", default="none,0.01,0.05,0.2,0.5")
    args = parser.parse_args()
    floors = [None if f == "none" else float(f) for f in args.floors.split(",")]
    rows = []
    for model, index in zip(args.model, args.index, strict=True):
        rows.append(sweep(model, index, args.dev, floors))
        print(json.dumps(rows[-1]), flush=True)
    print("\n| model | anchor floor | γ (dev) | P | R | F1 |\n|---|---|---:|---:|---:|---:|")
    for row in rows:
        for floor in floors:
            cell = row[str(floor)]
            print(
                f"| {row['model']} | {floor if floor is not None else 'off'} | {cell['gamma']:.3g} | "
                f"{cell['p']:.2f} | {cell['r']:.2f} | {cell['f1']:.2f} |"
            )


if __name__ == "__main__":
    main()
