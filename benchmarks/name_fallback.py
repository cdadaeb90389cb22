"""Spans added after the reader: the name fallback (``link.name_fallback``) and abbreviations
(``link.abbreviations``), each alone and both; γ chosen on dev per setting, scored on test once.

Usage:
  python benchmarks/name_fallback.py --sets ncbi,aida,examples

Per set: the model links the dev documents once at a low floor with nothing added; for each setting
the curve of ``post_processed_curve`` (the additions filled in at each γ) gives its best γ on dev. The
test documents are linked once at the floor the same way and scored at each chosen γ, which equals
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

from entqa_kit.core.records import LinkedDocument
from entqa_kit.documents import load_documents
from entqa_kit.evaluation.calibration import best_point
from entqa_kit.evaluation.post_processed_curve import linked_at, post_processed_curve
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.linking.linker import Linker
from entqa_kit.models.default import model_or_default

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


SETTINGS = {  # name: (name_fallback, abbreviations)
    "plain": (False, False),
    "fallback": (True, False),
    "abbreviations": (False, True),
    "both": (True, True),
}


def at_threshold(linker, documents, predictions, gamma: float, setting: str) -> list[LinkedDocument]:
    """Predictions kept above ``gamma``, with what ``setting`` adds after the reader."""
    names, abbreviations = SETTINGS[setting]

    def post(document, kept, cut):
        return linker.post_process(document, kept, cut, names, abbreviations)

    return linked_at(documents, predictions, post, gamma)


def run_set(name: str) -> dict:
    index, model, dev, test = SETS[name]
    if name == "examples" and not Path(index).is_dir():
        entqa = str(Path(sys.executable).with_name("entqa-kit"))
        subprocess.run([entqa, "index", "examples/kb/entities.jsonl", "--out", index, "-q"], check=True)
    started = time.process_time()
    off = {"name_fallback": False, "abbreviations": False}
    linker = Linker.from_pretrained(index, model, threshold=FLOOR, **off)
    saved = Linker.from_pretrained(index, model).config.threshold
    kb = linker.index.kb
    row: dict = {"set": name, "model": str(model_or_default(model)), "index": index}
    chosen = dict.fromkeys(SETTINGS, saved)
    if dev is not None:
        documents = documents_of(dev, kb)
        predictions = linker.link(documents)
        row["dev_f1"] = {}
        for setting, (names, abbreviations) in SETTINGS.items():

            def post(document, kept, cut, names=names, abbreviations=abbreviations):
                return linker.post_process(document, kept, cut, names, abbreviations)

            best = best_point(post_processed_curve(documents, predictions, post, FLOOR))
            chosen[setting], row["dev_f1"][setting] = best.threshold, best.f1
    documents = documents_of(test, kb)
    predictions = linker.link(documents)
    for setting in SETTINGS:
        scores = score_linking(
            documents, at_threshold(linker, documents, predictions, chosen[setting], setting)
        )
        row[setting] = {"gamma": round(chosen[setting], 6), **scores.as_json()}
    row["names_only"] = score_linking(
        documents, at_threshold(linker, documents, predictions, 2.0, "fallback")
    ).as_json()
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
    print("\n| set | setting | dev F1 | γ | test P | test R | test F1 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        for setting in SETTINGS:
            dev = f"{r['dev_f1'][setting]:.2f}" if "dev_f1" in r else "no dev"
            t = r[setting]
            print(f"| {r['set']} | {setting} | {dev} | {t['gamma']:.3g} | {t['precision']:.2f} | "
                  f"{t['recall']:.2f} | **{t['f1']:.2f}** |")  # fmt: skip
        n = r["names_only"]
        print(f"| {r['set']} | names only | | | {n['precision']:.2f} | {n['recall']:.2f} | {n['f1']:.2f} |")


if __name__ == "__main__":
    main()
