"""Scaling out on this machine: Ray linking and encoding with 1 and 2 workers, training with 1 and 2
processes, each against the single-process run in the same invocation.

Usage:
  python benchmarks/scale_out.py --docs 1000 --entities 100000 --steps 20     # the issue's sizes
  python benchmarks/scale_out.py --docs 120 --entities 6000 --steps 8   # fits ~10 minutes on 2 cores

Linking: AIDA train documents (text only) with the shipped model and the wiki index, once in this
process (``link_inputs``) and on a local Ray cluster with 1 worker x 2 CPUs and 2 workers x 1 CPU
(``link_inputs_ray``); the prediction files must be byte-identical. Encoding: the wiki KB's entities
repeated (new ids) up to --entities, built single-process and with Ray tasks (1 x 2 CPUs, 2 x 1 CPU).
Training: the shared fit() loop on MiniLM (a regression of mean-pooled states, batch 16 x 64 tokens),
1 process with 2 threads and 2 processes with 1 thread each under torchrun (gloo).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIDA = ROOT.parent / "shared" / "data" / "aida" / "AIDA-YAGO2-dataset.tsv"
WIKI_KB = ROOT.parent / "shared" / "data" / "kb" / "wiki_kb.kilt.jsonl"
INDEX = ROOT / "runs" / "wiki-minilm-index"
MODEL = ROOT / "entqa_kit" / "default_model"


def aida_inputs(count: int, out: Path) -> int:
    from entqa_kit.documents import load_documents
    from entqa_kit.kb.store import KnowledgeBase

    kb = KnowledgeBase(INDEX / "kb.sqlite")
    documents = load_documents(AIDA, kb, "aida", "train").documents[:count]
    with out.open("w", encoding="utf-8") as handle:
        for d in documents:
            handle.write(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n")
    return len(documents)


def bench_link(args, tmp: Path) -> dict:
    from entqa_kit.distributed.ray_cluster import ray_cluster
    from entqa_kit.distributed.ray_index import RayOptions
    from entqa_kit.distributed.ray_link import link_inputs_ray
    from entqa_kit.linking.run import link_inputs

    docs = tmp / "aida-train.jsonl"
    n = aida_inputs(args.docs, docs)
    rows = []
    started = time.perf_counter()
    single = link_inputs([docs], index_dir=INDEX, model_dir=MODEL, out=tmp / "single.jsonl", quiet=True)
    rows.append({"run": "single process (2 threads)", "seconds": time.perf_counter() - started, "same": True})
    expected = (tmp / "single.jsonl").read_bytes()
    for workers, cpus in ((1, 2), (2, 1)):
        options = RayOptions(workers=workers, cpus_per_worker=cpus)
        boot = time.perf_counter()
        with ray_cluster(None, num_cpus=2):
            boot = time.perf_counter() - boot
            started = time.perf_counter()
            out = tmp / f"ray{workers}.jsonl"
            link_inputs_ray([docs], index_dir=INDEX, model_dir=MODEL, out=out, ray=options, quiet=True)
            seconds = time.perf_counter() - started
        rows.append(
            {
                "run": f"Ray {workers} worker{'s' * (workers > 1)} x {cpus} CPU",
                "seconds": seconds,
                "cluster_start": boot,
                "same": out.read_bytes() == expected,
            }
        )
    for row in rows:
        row["docs_per_s"] = n / row["seconds"]
    return {"documents": n, "mentions": single.mentions, "rows": rows}


def repeated_kb(count: int, out: Path) -> int:
    lines = WIKI_KB.read_text(encoding="utf-8").splitlines()
    written = 0
    with out.open("w", encoding="utf-8") as handle:
        copy = 0
        while written < count:
            for line in lines:
                if written >= count:
                    break
                record = json.loads(line)
                record["wikipedia_id"] = f"{record.get('wikipedia_id', written)}-{copy}"
                record["_id"] = record["wikipedia_id"]
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
            copy += 1
    return written


def bench_encode(args, tmp: Path) -> dict:
    from entqa_kit.core.config import IndexConfig
    from entqa_kit.distributed.ray_index import RayOptions, build_index_ray
    from entqa_kit.index.build import build_index
    from entqa_kit.index.dense import IndexManifest, open_vectors
    from entqa_kit.index.settings import resolve_entity_encoder

    kb = tmp / "kb.kilt.jsonl"
    n = repeated_kb(args.entities, kb)
    encoder = resolve_entity_encoder(None)
    config = IndexConfig(index_type="flat", shard_size=args.shard_size)
    rows = []
    single = build_index(kb, tmp / "idx-single", encoder, config, kb_format="kilt", quiet=True)
    rows.append({"run": "single process (2 threads)", "seconds": single.encode_seconds, "max_diff": 0.0})
    import numpy as np

    reference = np.asarray(open_vectors(tmp / "idx-single", n, single.dim), dtype=np.float32)
    for workers, cpus in ((1, 2), (2, 1)):
        out = tmp / f"idx-ray{workers}"
        result = build_index_ray(
            kb, out, RayOptions(workers=workers, cpus_per_worker=cpus), encoder_config=encoder,
            index_config=config, kb_format="kilt", quiet=True,
        )  # fmt: skip
        vectors = np.asarray(open_vectors(out, n, IndexManifest.read(out).dim), dtype=np.float32)
        rows.append(
            {
                "run": f"Ray {workers} worker{'s' * (workers > 1)} x {cpus} CPU",
                "seconds": result.encode_seconds,
                "max_diff": float(np.abs(vectors - reference).max()),
            }
        )
    for row in rows:
        row["entities_per_s"] = n / row["seconds"]
    return {"entities": n, "shard_size": args.shard_size, "rows": rows}


def train_worker(steps: int, out: Path) -> None:
    """One rank (or the single process): ``steps`` fit() steps on MiniLM; rank 0 writes the timing."""
    import numpy as np
    import torch
    from transformers import AutoModel

    from entqa_kit.models.encoder import resolve_model_path
    from entqa_kit.training import distributed
    from entqa_kit.training.loop import EpochReport, FitConfig, fit

    distributed.init_from_env()
    model = AutoModel.from_pretrained(resolve_model_path("minilm"))
    rng = np.random.default_rng(0)
    examples = [rng.integers(1000, 20000, size=64).tolist() for _ in range(16 * steps)]
    target = torch.linspace(-1, 1, model.config.hidden_size)

    class Objective:
        def modules(self):
            return {"model": model}

        def parameter_groups(self, learning_rate):
            return [{"params": list(model.parameters()), "lr": learning_rate}]

        def num_examples(self):
            return len(examples)

        def batches(self, epoch, rng):
            for start in range(0, len(examples), 16):
                yield examples[start : start + 16]

        def loss(self, batch):
            ids = torch.tensor(batch)
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            return ((hidden.mean(1) - target) ** 2).mean()

        def end_epoch(self, epoch):
            return EpochReport()

        def save_best(self):
            pass

    config = FitConfig(
        epochs=1, learning_rate=1e-5, warmup_fraction=0.0, seed=0, bf16=True, checkpoint="ckpt"
    )
    result = fit(Objective(), config, out, steps, quiet=True)
    if distributed.is_main():
        (out / "timing.json").write_text(json.dumps({"steps": result.steps, "seconds": result.seconds}))
    distributed.shutdown()


def bench_train(args, tmp: Path) -> dict:
    rows = []
    for nproc in (1, 2):
        out = tmp / f"train{nproc}"
        out.mkdir()
        me = [str(Path(__file__).resolve()), "--train-worker", str(args.steps), str(out)]
        env = dict(os.environ, OMP_NUM_THREADS=str(2 // nproc))
        if nproc == 1:
            command = [sys.executable, *me]
        else:
            command = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc_per_node=2",
                *me,
            ]
        subprocess.run(command, env=env, check=True)
        timing = json.loads((out / "timing.json").read_text())
        rows.append({"run": f"{nproc} process{'es' * (nproc > 1)} x {2 // nproc} thread(s)", **timing})
    for row in rows:
        row["steps_per_s"] = row["steps"] / row["seconds"]
    return {"batch": 16, "tokens": 64, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--only", default="link,encode,train")
    parser.add_argument("--train-worker", nargs=2, metavar=("STEPS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_worker:
        train_worker(int(args.train_worker[0]), Path(args.train_worker[1]))
        return
    report = {}
    with tempfile.TemporaryDirectory(prefix="entqa-scale-out-") as tmp:
        for part, bench in (("link", bench_link), ("encode", bench_encode), ("train", bench_train)):
            if part in args.only.split(","):
                started = time.perf_counter()
                report[part] = bench(args, Path(tmp))
                report[part]["wall_s"] = time.perf_counter() - started
                print(json.dumps({part: report[part]}, indent=1), flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
