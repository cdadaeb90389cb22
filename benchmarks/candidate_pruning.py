"""How many candidates the reader must read: gold recall against mean candidates per passage.

For the top-K cut and for the retriever-score margin (keep candidates scored within m of the
passage's best, at most K), prints passage-level gold recall and the mean number of
(passage, candidate) pairs per passage, i.e. the reader's work. Retriever only: fast.

Usage:
  python benchmarks/candidate_pruning.py --model entqa_kit/default_model \\
      --index runs/wiki-minilm-index --split testa
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from entqa_kit.documents import load_documents
from entqa_kit.documents.passages import passages_of
from entqa_kit.evaluation.recall import gold_rows
from entqa_kit.index.dense import DenseIndex
from entqa_kit.retrieval.loading import load_retriever

AIDA = Path("../shared/data/aida/AIDA-YAGO2-dataset.tsv")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="entqa_kit/default_model")
    parser.add_argument("--index", default="runs/wiki-minilm-index")
    parser.add_argument("--split", default="testa")
    parser.add_argument("--max-k", type=int, default=16)
    parser.add_argument("--stride", type=int, default=None, help="passage stride (default: the model's)")
    args = parser.parse_args()
    retriever, passage_config = load_retriever(args.model)
    if args.stride:
        passage_config = passage_config.model_copy(update={"stride": args.stride})
    index = DenseIndex.load(Path(args.index), model_fingerprint=retriever.entity_encoder.fingerprint)
    documents = load_documents(AIDA, index.kb, "aida", args.split).documents
    passages = passages_of(documents, retriever.passage_encoder.tokenizer, passage_config)
    scores, rows = index.search(retriever.encode_passages(passages), args.max_k)
    golds = gold_rows(passages, index.kb)
    total_gold = sum(len(g) for g in golds)
    print(json.dumps({"split": args.split, "passages": len(passages), "gold": total_gold}))

    def report(name: str, read: np.ndarray) -> None:
        found = sum(len(set(g) & set(rows[i][read[i]].tolist())) for i, g in enumerate(golds))
        print(
            json.dumps(
                {
                    "rule": name,
                    "recall": round(100 * found / total_gold, 2),
                    "pairs_per_passage": round(float(read.sum()) / len(passages), 2),
                    "pairs": int(read.sum()),
                }
            )
        )

    valid = rows >= 0
    for k in (1, 2, 3, 4, 6, 8, 12, 16):
        if k <= args.max_k:
            report(f"top-{k}", valid & (np.arange(rows.shape[1])[None, :] < k))
    for margin in (0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3):
        report(f"margin {margin} (K≤{args.max_k})", valid & (scores >= scores[:, :1] - margin))


if __name__ == "__main__":
    main()
