"""AIDA end-to-end linking: InKB micro-F1 (strong match) and link wall time, per candidate count K.

Usage:
  python benchmarks/link_aida.py --model runs/aida-cpu --index runs/wiki-minilm-index \
      --split testb --ks 16,100 [--docs 20]

Prints one JSON line per K (wall time covers linking only; model loading is reported apart).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from entqa_kit.documents import load_documents
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.linking.linker import Linker
from entqa_kit.models.model_dir import read_model_config

AIDA = Path("../shared/data/aida/AIDA-YAGO2-dataset.tsv")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--split", default="testb")
    parser.add_argument("--ks", default="16,100")
    parser.add_argument("--docs", type=int, default=None, help="first N documents only")
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()
    saved = read_model_config(Path(args.model))
    print(
        json.dumps(
            {
                "machine_cores": os.cpu_count(),
                "model": args.model,
                "retriever_train_minutes": round(saved.training.seconds / 60, 1),
                "reader_train_minutes": round(saved.reader_training.seconds / 60, 1)
                if saved.reader_training
                else None,
            }
        ),
        flush=True,
    )
    for k in (int(x) for x in args.ks.split(",")):
        started = time.perf_counter()
        linker = Linker.from_pretrained(args.index, args.model, top_k=k, threshold=args.threshold)
        load_seconds = time.perf_counter() - started
        documents = load_documents(AIDA, linker.index.kb, "aida", args.split).documents[: args.docs]
        started = time.perf_counter()
        predictions = [linker.link_document(d) for d in documents]
        seconds = time.perf_counter() - started
        scores = score_linking(documents, predictions)
        print(
            json.dumps(
                {
                    "split": args.split,
                    "docs": len(documents),
                    "k": k,
                    "threshold": linker.config.threshold,
                    **scores.as_json(),
                    "md_f1": scores.md_f1,
                    "link_seconds": round(seconds, 1),
                    "docs_per_s": round(len(documents) / seconds, 2),
                    "load_seconds": round(load_seconds, 1),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
