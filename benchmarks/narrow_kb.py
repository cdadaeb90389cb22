"""A narrow KB forces links: AIDA linked against a KB of one type of entity (countries or clubs).

GERBIL's InKB scores leave out mentions whose gold entity is not in the KB, so a linker that turns
"Manchester" or "Paris" into the nearest country loses nothing there; users do. This links an AIDA
split with a model (the shipped default unless ``--model``) against the wiki KB cut down to one type:
``countries`` (entities whose short description says "Country in/within/primarily/of ..." or "Island
country") or ``clubs`` (titles of sports clubs: "... F.C.", "FC ...", "SK ...", no national teams),
scores it with the project's scorer (InKB, strong match) and sorts every prediction by what it falls
on (overlapping spans): a gold mention of an entity in the narrow KB, a gold mention of an entity
outside it (a named entity of the wiki KB or beyond, ``--NME--`` counted apart), or no gold mention at
all; with the median score of each group (is the threshold holding them apart?).

Usage: python benchmarks/narrow_kb.py [--work DIR] [--docs N] [--split testa|testb]
           [--kb countries|clubs] [--model DIR] [--threshold G]
           (N: first N documents of the split; 0: all; G: γ instead of the model's, e.g. one chosen by
           `entqa-kit calibrate ... --index W/clubs-index --out-of-kb wrong`)
Equivalent commands: build the subset (this script), then
    entqa-kit index W/countries.kilt.jsonl --out W/countries-index
    entqa-kit evaluate ../shared/data/aida/AIDA-YAGO2-dataset.tsv --split testb --index W/countries-index
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from entqa_kit.documents import load_labelled_documents
from entqa_kit.documents.aida import NIL
from entqa_kit.documents.base import DocumentSet
from entqa_kit.evaluation.linking import link_all
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.index.build import build_index
from entqa_kit.index.settings import resolve_entity_encoder
from entqa_kit.linking.linker import Linker
from entqa_kit.models.default import model_or_default

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WIKI_KB = DATA / "kb" / "wiki_kb.kilt.jsonl"
AIDA = DATA / "aida" / "AIDA-YAGO2-dataset.tsv"
COUNTRY = re.compile(r"\bcountry (in|within|primarily|of)\b|\bisland country\b", re.IGNORECASE)
CLUB = re.compile(
    r"(^|\s)(A\.)?F\.C\.?($|\s)|\b(A?FC|CF|SC|SK|FK|NK|AC|AS|SS|SV|VfB|VfL|TSV|RC|CD|KV|KSV|IFK|BK)\b"
)


def is_country(title: str, description: str) -> bool:
    return bool(COUNTRY.search(description)) and "music" not in description.lower()


def is_club(title: str, description: str) -> bool:
    return bool(CLUB.search(title)) and "national" not in title and " Cup" not in title


KINDS = {"countries": is_country, "clubs": is_club}


def narrow_subset(kind: str, out: Path) -> int:
    """Write the wiki KB's entities of one kind (KILT lines as they are) to ``out``; returns how many."""
    keep = KINDS[kind]
    kept = []
    for line in WIKI_KB.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        text = record.get("text") or []
        description = text[1].strip() if len(text) > 1 else ""
        if keep(record.get("wikipedia_title") or "", description):
            kept.append(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    return len(kept)


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def sort_predictions(run, forced: Counter | None = None) -> dict[str, list[float]]:
    """Prediction scores by what they fall on; ``forced`` counts "mention -> linked (gold)" of the
    predictions on an out-of-KB gold mention."""
    groups: dict[str, list[float]] = {"in-KB gold": [], "out-of-KB gold": [], "NIL gold": [], "no gold": []}
    golds = {d.id: d.mentions for d in run.documents.documents}
    texts = {d.id: d.text for d in run.documents.documents}
    kb = run.linker.index.kb
    for predicted in run.predictions:
        for m in predicted.mentions:
            hit = [g for g in golds.get(predicted.id, ()) if overlaps(m.start, m.end, g.start, g.end)]
            if not hit:
                group = "no gold"
            elif any(g.entities for g in hit):
                group = "in-KB gold"
            elif all(g.label == NIL for g in hit):
                group = "NIL gold"
            else:
                group = "out-of-KB gold"
                if forced is not None:
                    linked = entity.title if (entity := kb.by_id(m.entity)) else m.entity
                    gold = next((g.label for g in hit if g.label), "?")
                    forced[f"{texts[predicted.id][m.start : m.end]} -> {linked} ({gold})"] += 1
            groups[group].append(m.score)
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/entqa-narrow-kb"))
    parser.add_argument("--docs", type=int, default=0)
    parser.add_argument("--split", choices=("testa", "testb"), default="testb")
    parser.add_argument("--kb", choices=sorted(KINDS), default="countries")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--threshold", type=float, default=None, help="γ (default: the model's)")
    args = parser.parse_args()
    subset = args.work / f"{args.kb}.kilt.jsonl"
    count = narrow_subset(args.kb, subset)
    index_dir = args.work / f"{args.kb}-index"
    # the work folder is this script's own: rebuilt whenever the subset changes
    build_index(subset, index_dir, resolve_entity_encoder(), overwrite=True, quiet=True)
    started = time.perf_counter()
    linker = Linker.from_pretrained(
        model_dir=model_or_default(args.model), index_dir=index_dir, threshold=args.threshold
    )
    loaded = load_labelled_documents(AIDA, linker.index.kb, "aida", args.split)
    documents = DocumentSet()
    for document in loaded.documents[: args.docs or None]:
        documents.add(document)
    run = link_all(linker, documents, quiet=False)
    documents = documents.documents
    scores = score_linking(documents, run.predictions, [])
    forced: Counter = Counter()
    groups = sort_predictions(run, forced)
    total = sum(len(v) for v in groups.values())
    gold = [g for d in documents for g in d.mentions]
    result = {
        "kb": args.kb,
        "split": args.split,
        "model": str(args.model or "default"),
        "threshold": linker.config.threshold,
        "kb_entities": count,
        "documents": len(documents),
        "gold_mentions": len(gold),
        "gold_in_kb": sum(1 for g in gold if g.entities),
        "predictions": total,
        "inkb_precision": round(scores.precision, 2),
        "inkb_recall": round(scores.recall, 2),
        "inkb_f1": round(scores.f1, 2),
        "seconds": round(time.perf_counter() - started, 1),
        **{
            f"on {name}": {
                "count": len(values),
                "share": round(100 * len(values) / total, 1) if total else 0.0,
                "median_score": round(statistics.median(values), 4) if values else None,
            }
            for name, values in groups.items()
        },
        "most_frequent_forced_links": [f"{count} x {link}" for link, count in forced.most_common(15)],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
