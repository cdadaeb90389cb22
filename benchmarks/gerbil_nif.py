"""GERBIL NIF end to end: AIDA-B documents as a NIF dataset through POST /gerbil, scored by our scorer.

Usage:
  python benchmarks/gerbil_nif.py --index runs/wiki-minilm-index [--model M] [--docs 10] [--out runs/gerbil]

1. writes the first N AIDA-B documents as a NIF 2.0 dataset (Turtle, gold phrases with DBpedia URIs;
   out-of-KB gold with GERBIL's notInWiki URIs) and as document JSONL;
2. starts `entqa-kit serve` on a loopback port and sends each document's nif:Context alone (A2KB),
   as GERBIL does;
3. reads the answers' phrases back to KB ids and scores them against the dataset's gold with
   `score_linking` (InKB, strong match);
4. runs `entqa-kit evaluate` on the same documents (the JSONL) and prints both; exits 1 if they differ.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from entqa_kit.core.records import Document, LinkedDocument, LinkedSpan, Mention
from entqa_kit.documents import load_documents
from entqa_kit.evaluation.scoring import score_linking
from entqa_kit.index.dense import DenseIndex
from entqa_kit.serving.launch import running_server
from entqa_kit.serving.nif import context_triples, new_graph, phrase_triples, read_annotations
from entqa_kit.serving.uris import EntityUris

AIDA = Path(__file__).resolve().parents[2] / "shared" / "data" / "aida" / "AIDA-YAGO2-dataset.tsv"
BASE = "http://entqa-kit.local/aida-b/"
NOT_IN_WIKI = "http://aksw.org/notInWiki/"
KEYS = ("precision", "recall", "f1", "num_docs", "num_gold", "num_pred")


def context_uri(document: Document) -> str:
    return f"{BASE}{document.id.split()[0]}#char=0,{len(document.text)}"


def write_dataset(documents: list[Document], kb, uris: EntityUris, nif_path: Path, jsonl_path: Path) -> None:
    graph = new_graph()
    lines = []
    for document in documents:
        context = context_uri(document)
        for triple in context_triples(context, document.text):
            graph.add(triple)
        mentions = []
        for mention in document.mentions:
            if mention.in_kb:
                entity = kb.by_id(mention.entities[0])
                uri = uris.uri(entity.id, entity.title)
            else:
                uri = NOT_IN_WIKI + mention.label.replace(" ", "_")
            for triple in phrase_triples(context, document.text, mention.start, mention.end, uri):
                graph.add(triple)
            mentions.append(
                {
                    "start": mention.start,
                    "end": mention.end,
                    "entity": mention.entities[0] if mention.in_kb else mention.label,
                }
            )
        lines.append(
            json.dumps({"id": context, "text": document.text, "mentions": mentions}, ensure_ascii=False)
        )
    nif_path.write_text(graph.serialize(format="turtle"), encoding="utf-8")
    jsonl_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def gold_from_nif(nif_path: Path, kb, uris: EntityUris) -> list[Document]:
    documents = []
    for context, mentions in read_annotations(
        nif_path.read_text(encoding="utf-8"), lambda u: uris.entity_id(u, kb)
    ):
        gold = tuple(
            Mention(start=s, end=e, entities=(i,) if i else (), label=u or "") for s, e, i, u in mentions
        )
        documents.append(Document(id=str(context.node), text=context.text, mentions=gold))
    return documents


def request_for(document: Document) -> str:
    graph = new_graph()
    for triple in context_triples(document.id, document.text):
        graph.add(triple)
    return graph.serialize(format="turtle")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--docs", type=int, default=10, help="first N AIDA-B documents")
    parser.add_argument("--out", type=Path, default=Path("runs/gerbil"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    index = DenseIndex.load(Path(args.index))
    kb = index.kb
    uris = EntityUris.for_kb(index.manifest.kb_format)
    documents = load_documents(AIDA, kb, "aida", "testb").first(args.docs).documents
    nif_path = args.out / f"aida-b-first{args.docs}.ttl"
    jsonl_path = args.out / f"aida-b-first{args.docs}.jsonl"
    write_dataset(documents, kb, uris, nif_path, jsonl_path)
    gold = gold_from_nif(nif_path, kb, uris)
    print(json.dumps({"dataset": str(nif_path), "documents": len(gold), "bytes": nif_path.stat().st_size}))

    predictions = []
    with running_server(args.index, args.model) as server:
        print(json.dumps({"server_start_s": round(server.seconds_to_start, 1)}), flush=True)
        clock = time.perf_counter()
        for document in gold:
            response = httpx.post(
                f"{server.url}/gerbil",
                content=request_for(document).encode("utf-8"),
                headers={"content-type": "application/x-turtle", "accept": "application/x-turtle"},
                timeout=300,
            )
            response.raise_for_status()
            ((context, mentions),) = read_annotations(response.text, lambda u: uris.entity_id(u, kb))
            assert context.text == document.text, "the answer holds the same document"
            spans = [
                LinkedSpan(start=s, end=e, text=document.text[s:e], entity=i or u, title="", score=0.0)
                for s, e, i, u in mentions
            ]
            predictions.append(LinkedDocument(id=str(context.node), mentions=spans))
        seconds = time.perf_counter() - clock
    through_nif = score_linking(gold, predictions).as_json()
    print(
        json.dumps(
            {
                "through": "POST /gerbil (NIF)",
                "seconds": round(seconds, 1),
                **{k: through_nif[k] for k in KEYS},
            }
        )
    )

    command = [sys.executable, "-m", "entqa_kit", "evaluate", str(jsonl_path), "--index", args.index]
    command += ["--format", "jsonl", "--json", "-q"] + (["--model", args.model] if args.model else [])
    evaluated = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    print(json.dumps({"through": "entqa-kit evaluate", **{k: evaluated[k] for k in KEYS}}))
    same = all(through_nif[k] == evaluated[k] for k in KEYS)
    print(json.dumps({"equal": same}))
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
