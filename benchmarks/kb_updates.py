"""Changing the KB without rebuilding (issue 14's reliability figure): add 10,000 unrelated entities
(MEDIC diseases) to a copy of the 15,019-entity wiki index, then remove them, then compact.

Reports the time of each change and AIDA-A (testa) R@1/10/100 with the shipped default model after
each (an unrelated addition must not lower R@100 by more than noise), and checks that removing the
additions restores the original results exactly: the same top-100 entity rows and scores for every
AIDA-A passage, the same KB fingerprint, and after compaction the same vector bytes.

The passages are encoded once and searched in each state, which is what
``entqa-kit evaluate ../shared/data/aida/AIDA-YAGO2-dataset.tsv --split testa --index IDX --stage retriever``
does for one state. The changes are what these commands do:

    cp -r runs/wiki-minilm-index W/wiki
    head -n 10000 ../shared/data/medic/medic.umls.jsonl > W/medic10k.jsonl
    entqa-kit index add W/wiki W/medic10k.jsonl
    entqa-kit index remove W/wiki W/medic10k.ids
    entqa-kit index compact W/wiki

Usage: python benchmarks/kb_updates.py [--index runs/wiki-minilm-index] [--work DIR] [--count 10000]
The source index is copied, never changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from entqa_kit.documents import load_labelled_documents
from entqa_kit.documents.passages import passages_of
from entqa_kit.evaluation.recall import gold_rows, retrieval_recall
from entqa_kit.index.dense import DenseIndex, IndexManifest
from entqa_kit.index.update import add_entities, compact_index, remove_entities
from entqa_kit.models.default import model_or_default
from entqa_kit.retrieval.loading import load_retriever

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
AIDA = DATA / "aida" / "AIDA-YAGO2-dataset.tsv"
MEDIC = DATA / "medic" / "medic.umls.jsonl"
KS = (1, 10, 100)


def state(index_dir: Path, retriever, passages, vectors, keep) -> dict:
    index = DenseIndex.load(index_dir, model_fingerprint=retriever.entity_encoder.fingerprint)
    report = retrieval_recall(passages, vectors, index.search, index.kb, KS)
    scores, rows = index.search(vectors[keep], 100)
    manifest = index.manifest
    index.kb.close()
    return {
        "recall": {f"R@{k}": round(v, 2) for k, v in report.recall_at.items()},
        "entities": manifest.entity_count,
        "rows": manifest.count,
        "kb_fingerprint": manifest.kb_fingerprint,
        "top100": (scores, rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "runs" / "wiki-minilm-index")
    parser.add_argument("--work", type=Path, default=Path("/tmp/entqa-kb-updates"))
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    copy = args.work / "wiki"
    shutil.rmtree(copy, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(args.index, copy)
    additions = args.work / "medic-add.jsonl"
    lines = MEDIC.read_text(encoding="utf-8").splitlines()[: args.count]
    additions.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    ids = [json.loads(line)["concept_id"] for line in lines]

    manifest = IndexManifest.read(copy)
    retriever, passage_config = load_retriever(model_or_default(None), manifest.encoder)
    index = DenseIndex.load(copy, model_fingerprint=retriever.entity_encoder.fingerprint)
    documents = load_labelled_documents(AIDA, index.kb, "aida", "testa")
    passages = passages_of(documents.documents, retriever.passage_encoder.tokenizer, passage_config)
    keep = [i for i, g in enumerate(gold_rows(passages, index.kb)) if g]
    index.kb.close()
    started = time.perf_counter()
    vectors = retriever.encode_passages(passages, 64)
    encode_seconds = time.perf_counter() - started

    results = {
        "passages": len(passages),
        "passages_with_gold": len(keep),
        "encode_passages_s": round(encode_seconds, 1),
    }
    original = state(copy, retriever, passages, vectors, keep)
    steps = [
        ("add", lambda: add_entities(copy, additions, encoder=retriever.entity_encoder, quiet=True)),
        ("remove", lambda: remove_entities(copy, ids)),
        ("compact", lambda: compact_index(copy, quiet=True)),
    ]
    rows = [("original", None, original)]
    for name, step in steps:
        started = time.perf_counter()
        change = step()
        seconds = time.perf_counter() - started
        rows.append((name, (seconds, change), state(copy, retriever, passages, vectors, keep)))
    for name, timing, found in rows:
        entry = {k: v for k, v in found.items() if k != "top100"}
        if timing is not None:
            seconds, change = timing
            entry.update({"seconds": round(seconds, 1), "advice": change.advice})
        if name != "original":
            same_rows = found["top100"][1] == original["top100"][1]
            same_scores = np.array_equal(found["top100"][0], original["top100"][0])
            entry["top100_identical_to_original"] = bool(same_rows.all() and same_scores)
            entry["top100_cells_differing"] = int((~same_rows).sum())
        results[name] = entry
    results["compacted_vectors_identical"] = (copy / "vectors.f16").read_bytes() == (
        args.index / "vectors.f16"
    ).read_bytes()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
