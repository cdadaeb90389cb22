"""Linking speed levers on AIDA: F1, wall time, docs/s, peak memory and the ratio to the faithful run.

Every configuration links the same documents in its own process (so peak memory is its own),
one after another on the same machine; the ratio divides the faithful configuration's link
wall time by each configuration's. Model loading is reported apart from link time.

Usage:
  python benchmarks/link_speed.py --model entqa_kit/default_model --index runs/wiki-minilm-index \\
      --split testb --docs 20 --configs faithful,default,fast
  python benchmarks/link_speed.py ... --docs 0 --configs default     # all documents of the split
  # pair against joint in one run: name models, and prefix a configuration with its model's name
  python benchmarks/link_speed.py --models pair=runs/aida-cpu-pair,joint=entqa_kit/default_model \\
      --docs 0 --configs pair/default,joint/default

Configurations (reader settings on top of the model's saved ones):
  faithful  the paper's inference: K=100, L=32, S=16, γ=0.05, every (passage, candidate) pair read
  default   the model's saved settings, i.e. what `entqa-kit link` does with no options
  others    one or two levers changed from `default` (see CONFIGS)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

AIDA = Path("../shared/data/aida/AIDA-YAGO2-dataset.tsv")
CONFIGS: dict[str, dict] = {
    "faithful": {
        "test_k": 100,
        "threshold": 0.05,
        "test_stride": 16,
        "test_entity_tokens": 64,
        "quantize": "none",
    },
    "default": {},
    # the first reader's setting: K=16, trained stride and entity length, γ calibrated for it on AIDA-A
    "k16-s16-e64": {"test_k": 16, "test_stride": 16, "test_entity_tokens": 64, "threshold": 0.0215415},
    # one lever at a time, on top of the default (K=8, S=24, 32 entity wordpieces)
    "s16": {"test_stride": 16},
    "e64": {"test_entity_tokens": 64},
    "k16": {"test_k": 16},
    "k4": {"test_k": 4},
    "e16": {"test_entity_tokens": 16},
    "k4-e16": {"test_k": 4, "test_entity_tokens": 16},
    "margin0.1": {"candidate_margin": 0.1},
    "int8": {"quantize": "int8"},
}


def run_one(args: argparse.Namespace) -> dict:
    from entqa_kit.documents import load_documents
    from entqa_kit.evaluation.scoring import score_linking
    from entqa_kit.linking.linker import Linker

    models = dict(item.split("=", 1) for item in args.models.split(",")) if args.models else {}
    model_name, _, config_name = args.one.rpartition("/")
    model = models[model_name] if model_name else args.model
    settings = CONFIGS[config_name] | json.loads(args.extra)
    started = time.perf_counter()
    linker = Linker.from_pretrained(args.index, model, **settings)
    load_seconds = time.perf_counter() - started
    documents = load_documents(AIDA, linker.index.kb, "aida", args.split).documents
    documents = documents[: args.docs] if args.docs else documents
    started = time.perf_counter()
    if args.documents_per_batch > 1:
        predictions = linker.link(documents, documents_per_batch=args.documents_per_batch)
    else:
        predictions = [linker.link_document(d) for d in documents]
    seconds = time.perf_counter() - started
    scores = score_linking(documents, predictions)
    config = linker.config
    return {
        "config": args.one
        + (f" ({args.documents_per_batch} docs/batch)" if args.documents_per_batch > 1 else ""),
        "docs": len(documents),
        "k": config.test_k,
        "margin": config.candidate_margin,
        "stride": linker.passage_config.stride,
        "reader": linker.reader_config.kind,
        "entity_tokens": config.test_entity_tokens or linker.reader_config.max_entity_tokens
        if linker.reader_config.kind == "pair"
        else linker.reader_config.candidate_title_tokens + linker.reader_config.candidate_description_tokens,
        "quantize": config.quantize,
        "threshold": config.threshold,
        "f1": scores.f1,
        "precision": scores.precision,
        "recall": scores.recall,
        "md_f1": scores.md_f1,
        "ed_accuracy": scores.ed_accuracy,
        "link_seconds": round(seconds, 2),
        "docs_per_s": round(len(documents) / seconds, 2),
        "load_seconds": round(load_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "stage_seconds": {
            k: round(v, 2) for k, v in linker.profile.items() if k not in ("pairs", "passages", "passes")
        },
        "passages": int(linker.profile["passages"]),
        "reader_passes": int(linker.profile["pairs"] + linker.profile["passes"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="entqa_kit/default_model")
    parser.add_argument("--index", default="runs/wiki-minilm-index")
    parser.add_argument("--split", default="testb")
    parser.add_argument("--docs", type=int, default=20, help="first N documents (0: all)")
    parser.add_argument("--configs", default="faithful,default", help="NAME or MODEL/NAME (see --models)")
    parser.add_argument("--models", default="", help="MODEL=DIR,... to compare models in one run")
    parser.add_argument("--extra", default="{}", help="JSON reader settings added to every configuration")
    parser.add_argument(
        "--documents-per-batch", type=int, default=1, help="link N documents together (Linker.link_documents)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args)), flush=True)
        return
    print(json.dumps({"machine_cores": os.cpu_count(), "model": args.model, "split": args.split}), flush=True)
    rows = []
    for name in args.configs.split(","):
        command = [sys.executable, __file__, "--one", name, *sys.argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    base = next((r for r in rows if r["config"].endswith("faithful")), rows[0])
    print(
        "\n| config | reader | K | S | entity tok. | γ | F1 | P | R | MD F1 | ED acc. | passes | wall s "
        f"| docs/s | peak MB | × {base['config']} |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{base['link_seconds'] / r['link_seconds']:.1f}×"
        print(
            f"| {r['config']} | {r['reader']} | {r['k']} | {r['stride']} | {r['entity_tokens']} | "
            f"{r['threshold']:.3g} | {r['f1']:.2f} | {r['precision']:.2f} | {r['recall']:.2f} | "
            f"{r['md_f1']:.2f} | {r['ed_accuracy']:.2f} | {r['reader_passes']:,} | {r['link_seconds']:.1f} | "
            f"{r['docs_per_s']:.2f} | {r['peak_rss_mb']} | {ratio} |"
        )


if __name__ == "__main__":
    main()
