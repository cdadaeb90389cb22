"""Names learnt from labels, scored as name matching alone on NCBI-disease dev against MEDIC.

For the first N abstracts of NCBI train (the labelled documents), this learns the names
(:mod:`entqa_kit.kb.labelled_names`): each labelled spelling for the concept its labels give it most
often, and the MEDIC names matched at least M times in those abstracts and right at fewer than a share
P of them, which are left out. It then matches NCBI dev with MEDIC's names (with variants; short forms
after their long forms, as `entqa-kit silver --variants --abbreviations` does, without the corpus
frequency filter) and scores the matches as predictions (InKB strong match, the project's scorer):
plain names, names + learnt spellings, names - exclusions, and both, over a grid of (M, P). This is
what chose ``MIN_MATCHES`` and ``MAX_PRECISION``; the test split is not read.

Usage: python benchmarks/labelled_names.py [--sizes 10,50,593] [--index runs/medic-minilm-index]
(the index only supplies MEDIC's entity store: any index of medic.umls.jsonl)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from entqa_kit.core.records import LinkedDocument, LinkedSpan
from entqa_kit.documents.pubtator import read_pubtator
from entqa_kit.documents.silver_abbreviations import with_abbreviations
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.index.dense import KB_STORE
from entqa_kit.kb.labelled_names import judged_matches, kb_spellings, mostly_wrong_names
from entqa_kit.kb.name_matcher import MatcherOptions, NameMatcher
from entqa_kit.kb.store import KnowledgeBase

NCBI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ncbi-disease"
GRID = [(m, p) for m in (1, 2, 3) for p in (0.3, 0.5, 0.7)]


def scored(matcher: NameMatcher, documents, exclude=frozenset()) -> dict:
    linked = []
    for document in documents:
        matches = with_abbreviations(document.text, matcher.find(document.text, exclude))
        mentions = [
            LinkedSpan.model_construct(
                start=m.start, end=m.end, text="", entity=m.entity_id, title="", score=1.0
            )
            for m in matches
        ]
        linked.append(LinkedDocument.model_construct(id=document.id, mentions=mentions))
    scores = score_linking(documents, linked)
    return {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,50,593")
    parser.add_argument("--index", type=Path, default=Path("runs/medic-minilm-index"))
    args = parser.parse_args()
    kb = KnowledgeBase(args.index / KB_STORE)
    train = read_pubtator(NCBI / "NCBItrainset_corpus.txt", kb).documents
    dev = read_pubtator(NCBI / "NCBIdevelopset_corpus.txt", kb).documents
    options = MatcherOptions(variants=True, max_doc_share=None)
    plain = NameMatcher.from_kb(kb, options)
    print(json.dumps({"setting": "names", "labelled": 0} | scored(plain, dev)))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        labelled = train[:size]
        spellings, _ = kb_spellings(labelled, kb)
        learnt = NameMatcher.from_kb(kb, options, spellings)
        row = {"labelled": size, "spellings": len(spellings), "names + spellings": scored(learnt, dev)}
        for m, p in GRID:
            for label, matcher in (("names", plain), ("names + spellings", learnt)):
                excluded = frozenset(mostly_wrong_names(judged_matches(labelled, matcher), m, p))
                row[f"{label} - excluded (M={m}, P={p})"] = scored(matcher, dev, excluded) | {
                    "excluded": len(excluded)
                }
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(json.dumps(row))
    print("\n| labelled | setting | excluded | P | R | F1 |\n|---:|---|---:|---:|---:|---:|")
    base = scored(plain, dev)
    print(f"| 0 | names | | {base['precision']:.2f} | {base['recall']:.2f} | {base['f1']:.2f} |")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict):
                excluded = value.get("excluded", "")
                print(
                    f"| {row['labelled']} | {key} | {excluded} | {value['precision']:.2f} | "
                    f"{value['recall']:.2f} | {value['f1']:.2f} |"
                )
    kb.close()


if __name__ == "__main__":
    main()
