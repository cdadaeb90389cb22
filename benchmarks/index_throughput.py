"""Entity-encoding throughput and peak memory of `entqa-kit index` with the default MiniLM.

Each case runs in a fresh subprocess so that its peak RSS is its own:

- ``wiki``: the shared KILT KB (15,019 entities), default settings;
- ``medic``: the shared MEDIC UMLS-style JSONL (11,865 concepts), default settings;
- ``full64-float32`` / ``full64-bfloat16``: 2,000 wiki entities whose text fills all
  64 tokens, so every input is exactly 64 tokens, in each compute precision.

It ends with what a 6-million-entity KB (Wikipedia scale) would take to encode at 64 tokens: on this
machine, from the measured full-64 bfloat16 rate, and on one GPU, *estimated* from FLOPs (no GPU
was measured): MiniLM-L6 costs 2 x 10.6M non-embedding parameters x 64 tokens ~ 1.4 GFLOP per
entity (attention adds ~3%; the 11.7M embedding parameters are lookups), and the estimate assumes
the GPU sustains 25% of its dense bf16 peak on a model this small.

Usage: python benchmarks/index_throughput.py [--cases wiki,medic,full64-float32,full64-bfloat16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KBS = {"wiki": SHARED / "kb" / "wiki_kb.kilt.jsonl", "medic": SHARED / "medic" / "medic.umls.jsonl"}
ALL_CASES = ("wiki", "medic", "full64-float32", "full64-bfloat16")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_kb_case(name: str) -> dict:
    from entqa_kit.core.config import EncoderConfig
    from entqa_kit.index.build import build_index
    from entqa_kit.models.encoder import TextEncoder

    started = time.perf_counter()
    encoder = TextEncoder.load(EncoderConfig())
    load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as out:
        result = build_index(KBS[name], Path(out), encoder=encoder, quiet=True)
        tokens = _mean_tokens(encoder, Path(out))
    return {
        "case": name,
        "entities": result.count,
        "mean_tokens": tokens,
        "dtype": encoder.compute_dtype,
        "build_seconds": round(result.seconds, 1),
        "entities_per_s": round(result.entities_per_second, 1),
        "with_model_load_per_s": round(result.count / (result.seconds + load_seconds), 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def _mean_tokens(encoder, index_dir: Path) -> float:
    from entqa_kit.kb.store import KnowledgeBase

    kb = KnowledgeBase(index_dir / "kb.sqlite")
    texts = encoder.entity_texts([e for _, e in kb.iter_entities()])
    ids = encoder.tokenizer(texts, truncation=True, max_length=encoder.config.max_entity_tokens)["input_ids"]
    return round(sum(map(len, ids)) / len(ids), 1)


def run_full64_case(dtype: str, count: int = 2000) -> dict:
    from entqa_kit.core.config import EncoderConfig
    from entqa_kit.models.encoder import TextEncoder
    from kb_adapters.base import BadRowLog, ReadOptions
    from kb_adapters.kilt import KiltAdapter

    encoder = TextEncoder.load(EncoderConfig(dtype=dtype))
    entities = []
    for item in KiltAdapter().read(KBS["wiki"], ReadOptions(), BadRowLog(False)):
        if len(item.entity.description) > 600:
            entities.append(item.entity)
        if len(entities) == count:
            break
    texts = encoder.entity_texts(entities)
    lengths = {len(x) for x in encoder.tokenizer(texts, truncation=True, max_length=64)["input_ids"]}
    assert lengths == {64}, lengths
    encoder.encode_entities(entities[:64])  # warm-up
    started = time.perf_counter()
    encoder.encode_entities(entities)
    seconds = time.perf_counter() - started
    return {
        "case": f"full64-{dtype}",
        "entities": len(entities),
        "mean_tokens": 64.0,
        "dtype": encoder.compute_dtype,
        "encode_seconds": round(seconds, 1),
        "entities_per_s": round(len(entities) / seconds, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def run_case(name: str) -> dict:
    if name.startswith("full64-"):
        return run_full64_case(name.removeprefix("full64-"))
    return run_kb_case(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(ALL_CASES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one)))
        return
    print(f"machine: {os.cpu_count()} cores; torch threads default")
    rows = []
    for case in args.cases.split(","):
        output = subprocess.run(
            [sys.executable, __file__, "--one", case], check=True, capture_output=True, text=True
        )
        row = json.loads(output.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row), flush=True)
    by_case = {r["case"]: r for r in rows}
    if {"full64-float32", "full64-bfloat16"} <= by_case.keys():
        ratio = by_case["full64-bfloat16"]["entities_per_s"] / by_case["full64-float32"]["entities_per_s"]
        print(f"bfloat16 / float32 speed at 64 tokens: {ratio:.2f}x")
    if "full64-bfloat16" in by_case:
        print_wikipedia_estimate(by_case["full64-bfloat16"]["entities_per_s"])


WIKIPEDIA_ENTITIES = 6_000_000
FLOP_PER_ENTITY = 2 * 10.6e6 * 64 * 1.03  # forward pass at 64 tokens, attention included
GPUS = {"A100 (312 TFLOP/s bf16 dense)": 312e12, "H100 SXM (989 TFLOP/s bf16 dense)": 989e12}
GPU_UTILISATION = 0.25


def print_wikipedia_estimate(cpu_rate: float) -> None:
    hours = WIKIPEDIA_ENTITIES / cpu_rate / 3600
    print(f"6M entities at 64 tokens here (measured {cpu_rate:.0f}/s, {os.cpu_count()} cores): {hours:.1f} h")
    for name, peak in GPUS.items():
        rate = peak * GPU_UTILISATION / FLOP_PER_ENTITY
        print(
            f"6M entities on one {name}: ~{rate:,.0f}/s -> ~{WIKIPEDIA_ENTITIES / rate / 60:.1f} min "
            f"(estimated from FLOPs at {GPU_UTILISATION:.0%} of peak, not measured)"
        )


if __name__ == "__main__":
    main()
