"""The name fallback (``link.name_fallback``): γ chosen on dev with and without it, scored on test once.

Usage:
  python benchmarks/name_fallback.py --sets ncbi,aida,examples

Per set: the model links the dev documents once at a low floor without the fallback; the plain curve
(``threshold_curve``) and the fallback curve (``fallback_curve``: the KB-name matches filled in at each
γ) each give their best γ on dev. The test documents are linked once at the floor the same way and
scored at each chosen γ (plain: spans above γ; fallback: spans above γ plus the names), which equals
linking at that γ (``tests/test_name_fallback.py`` checks it). Name matching alone (the linker's matcher,
every match linked) is the third row. ``examples`` has no dev split: the model's own γ is used.

  ncbi      runs/medic-minilm-index, runs/ncbi-joint; NCBI-disease dev -> test (PubTator)
  aida      runs/wiki-minilm-index, the shipped default model; AIDA testa -> testb
  examples  runs/examples-index (built if missing), the shipped default; examples/docs.jsonl
Prints one JSON line per set and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from entqa_kit.core.records import LinkedDocument, LinkedSpan
from entqa_kit.documents import load_documents
from entqa_kit.evaluation.calibration import best_point, threshold_curve
from entqa_kit.evaluation.fallback_curve import fallback_curve
from entqa_kit.evaluation.scoring import ranked_outcomes, score_linking
from entqa_kit.linking.linker import Linker
from entqa_kit.linking.name_fallback import fill_with_names
from entqa_kit.models.default import model_or_default
from entqa_kit.reading.spans import ScoredSpan

DATA = Path("../shared/data")
NCBI = DATA / "ncbi-disease"
AIDA = DATA / "aida" / "AIDA-YAGO2-dataset.tsv"
SETS = {
    "ncbi": ("runs/medic-minilm-index", "runs/ncbi-joint", (NCBI / "NCBIdevelopset_corpus.txt", None),
             (NCBI / "NCBItestset_corpus.txt", None)),
    "aida": ("runs/wiki-minilm-index", None, (AIDA, "testa"), (AIDA, "testb")),
    "examples": ("runs/examples-index", None, None, (Path("examples/docs.jsonl"), None)),
}  # fmt: skip
FLOOR = 0.001


def documents_of(source: tuple[Path, str | None], kb) -> list:
    path, split = source
    return load_documents(path, kb, "aida" if split else None, split).documents


def at_threshold(documents, predictions, matches, gamma: float, fallback: bool) -> list[LinkedDocument]:
    """Predictions kept above ``gamma``, with the names filled in when ``fallback``."""
    out = []
    for document, linked, found in zip(documents, predictions, matches):
        kept = [ScoredSpan(m.start, m.end, m.entity, m.score) for m in linked.mentions if m.score > gamma]
        spans = fill_with_names(kept, found if fallback else [], gamma)
        mentions = [
            LinkedSpan(start=s.start, end=s.end, text=document.text[s.start : s.end], entity=s.entity,
                       title="", score=s.score)
            for s in spans
        ]  # fmt: skip
        out.append(LinkedDocument(id=document.id, mentions=mentions))
    return out


def run_set(name: str) -> dict:
    index, model, dev, test = SETS[name]
    if name == "examples" and not Path(index).is_dir():
        entqa = str(Path(sys.executable).with_name("entqa-kit"))
        subprocess.run([entqa, "index", "examples/kb/entities.jsonl", "--out", index, "-q"], check=True)
    started = time.process_time()
    linker = Linker.from_pretrained(index, model, threshold=FLOOR, name_fallback=False)
    saved = Linker.from_pretrained(index, model).config.threshold
    kb = linker.index.kb
    row: dict = {"set": name, "model": str(model_or_default(model)), "index": index}
    chosen = {"plain": saved, "fallback": saved}
    if dev is not None:
        documents = documents_of(dev, kb)
        predictions = linker.link(documents)
        matches = [linker.name_matches(d.text) for d in documents]
        plain = best_point(threshold_curve(ranked_outcomes(documents, predictions), FLOOR))
        filled = best_point(fallback_curve(documents, predictions, matches, FLOOR))
        chosen = {"plain": plain.threshold, "fallback": filled.threshold}
        row["dev_f1"] = {"plain": plain.f1, "fallback": filled.f1}
    documents = documents_of(test, kb)
    predictions = linker.link(documents)
    matches = [linker.name_matches(d.text) for d in documents]
    for setting, fallback in (("plain", False), ("fallback", True)):
        scores = score_linking(
            documents, at_threshold(documents, predictions, matches, chosen[setting], fallback)
        )
        row[setting] = {"gamma": round(chosen[setting], 6), **scores.as_json()}
    names_only = at_threshold(documents, predictions, matches, 2.0, True)
    row["names_only"] = score_linking(documents, names_only).as_json()
    row["cpu_s"] = round(time.process_time() - started, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default="ncbi,aida,examples")
    args = parser.parse_args()
    rows = []
    for name in args.sets.split(","):
        rows.append(run_set(name))
        print(json.dumps(rows[-1]), flush=True)
    print("\n| set | dev F1 plain / fallback | test: plain (γ) | with fallback (γ) | names only |")
    print("|---|---|---|---|---|")
    for r in rows:
        dev = f"{r['dev_f1']['plain']:.2f} / {r['dev_f1']['fallback']:.2f}" if "dev_f1" in r else "no dev"
        cells = [
            f"P {r[k]['precision']:.2f} R {r[k]['recall']:.2f} F1 **{r[k]['f1']:.2f}** ({r[k]['gamma']:.3g})"
            for k in ("plain", "fallback")
        ]
        n = r["names_only"]
        print(f"| {r['set']} | {dev} | {cells[0]} | {cells[1]} | P {n['precision']:.2f} R {n['recall']:.2f} "
              f"F1 {n['f1']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
