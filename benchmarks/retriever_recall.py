"""Retriever recall (R@1/10/100) on the shared data, zero-shot and trained, with training wall time.

Cases (each prints one JSON line):
- ``aida-zero-shot``: plain MiniLM on AIDA testa against the wiki KB index;
- ``aida-frozen``: recipes/aida-cpu.toml (entity tower frozen), trained, then AIDA testa;
- ``aida-two-tower``: the same recipe with both towers trained (see TWO_TOWER below), then re-indexed;
- ``aida-frozen-small``: the frozen recipe on the two-tower run's budget, to price the freezing;
- ``ncbi-zero-shot`` / ``ncbi-trained``: recipes/ncbi-disease.toml, NCBI-disease dev against MEDIC.

A trained case reuses a finished model directory under runs/ (its training time is read from
its entqa_config.json), so the training run can be started separately with `entqa-kit train`.

Usage: python benchmarks/retriever_recall.py [--cases aida-zero-shot,aida-frozen,...]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from entqa_kit.evaluation.retriever import evaluate_retriever
from entqa_kit.models.model_dir import is_model_dir, read_model_config
from entqa_kit.training.recipes import load_recipe
from entqa_kit.training.retriever_stage import ensure_base_index, train_retriever

AIDA = Path("../shared/data/aida/AIDA-YAGO2-dataset.tsv")
NCBI_DEV = Path("../shared/data/ncbi-disease/NCBIdevelopset_corpus.txt")
SMALL_BUDGET = ["retriever.num_negatives=24", "retriever.epochs=1", "retriever.max_train_passages=4000"]
TWO_TOWER = ["retriever.freeze_entity_tower=false", *SMALL_BUDGET]
CASES = {
    "aida-zero-shot": ("recipes/aida-cpu.toml", None, [], AIDA, "testa", None),
    "aida-frozen": ("recipes/aida-cpu.toml", "runs/aida-frozen", [], AIDA, "testa", None),
    "aida-two-tower": ("recipes/aida-cpu.toml", "runs/aida-two-tower", TWO_TOWER, AIDA, "testa", None),
    "aida-frozen-small": (
        "recipes/aida-cpu.toml",
        "runs/aida-frozen-small",
        SMALL_BUDGET,
        AIDA,
        "testa",
        None,
    ),
    "ncbi-zero-shot": ("recipes/ncbi-disease.toml", None, [], NCBI_DEV, None, "none"),
    "ncbi-trained": ("recipes/ncbi-disease.toml", "runs/ncbi-trained", [], NCBI_DEV, None, None),
}


def run(case: str) -> dict:
    recipe_path, model_dir, overrides, data, split, topic = CASES[case]
    recipe = load_recipe(Path(recipe_path), overrides)
    index = ensure_base_index(recipe, quiet=True)
    model, index_dir, train_seconds = recipe.encoder.model, index.directory, 0.0
    if model_dir is not None:
        model_path = Path(model_dir)
        if not is_model_dir(model_path):
            train_retriever(recipe, model_path, resume=True, quiet=True)
        train_seconds = read_model_config(model_path).training.seconds
        model = str(model_path)
        if (model_path / "index" / "manifest.json").is_file():
            index_dir = model_path / "index"
    started = time.perf_counter()
    report = evaluate_retriever(
        data, index_dir, model, recipe.data.format, split, quiet=True, passage_topic=topic
    )
    return {
        "case": case,
        "recall_at": report.recall_at,
        "doc_recall_at": report.doc_recall_at,
        "num_passages": report.num_passages,
        "train_minutes": round(train_seconds / 60, 1),
        "eval_seconds": round(time.perf_counter() - started, 1),
        "overrides": overrides,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    for case in args.cases.split(","):
        print(json.dumps(run(case)), flush=True)


if __name__ == "__main__":
    main()
