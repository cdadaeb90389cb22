"""Soak `entqa-kit serve`: concurrent POST /link of AIDA-B documents, a sequential baseline, then bad inputs.

Usage:
  python benchmarks/serve_soak.py --index runs/wiki-minilm-index [--model M] \
      [--requests 1000] [--concurrency 8] [--sequential 50] [--max-seconds 900]

Starts the server on a loopback port (shipped model unless --model), then:
1. sequential: --sequential requests one at a time (the baseline: no two documents ever share a batch);
2. concurrent: --requests requests (one AIDA-B document each, cycling) from --concurrency clients;
   stops issuing new ones after --max-seconds and says so;
3. bad inputs: each case's status code and coded message, and that the server still answers.
Prints one JSON line per phase: errors, p50/p95/p99 latency, docs/s, mean shared-batch size, and
the server's RSS and peak RSS (VmHWM) after start-up and at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from entqa_kit.documents import load_documents
from entqa_kit.serving.launch import running_server

AIDA = Path(__file__).resolve().parents[2] / "shared" / "data" / "aida" / "AIDA-YAGO2-dataset.tsv"
_local = threading.local()


def memory(pid: int) -> dict:
    """RSS and peak RSS (VmHWM) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS"), "peak_rss_mb": fields.get("VmHWM")}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def post_link(url: str, doc_id: str, text: str) -> tuple[float, int]:
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(timeout=600)
    clock = time.perf_counter()
    try:
        response = client.post(f"{url}/link", json={"documents": [{"id": doc_id, "text": text}]})
        status = response.status_code
        if status == 200 and response.json()["documents"][0]["id"] != doc_id:
            status = -2
    except httpx.HTTPError:
        status = -1
    return time.perf_counter() - clock, status


def run_phase(
    name: str, url: str, documents, count: int, workers: int, max_seconds: float, pid: int | None = None
) -> dict:
    """``count`` requests from ``workers`` clients; with ``pid``, the server's RSS every 10% of them."""
    batches_before = httpx.get(f"{url}/health").json()["batches"]
    rss_trace: list[float] = []
    every = max(1, count // 10)
    deadline = time.monotonic() + max_seconds
    results: list[tuple[float, int]] = []
    clock = time.perf_counter()

    def one(i: int):
        if time.monotonic() > deadline:
            return None
        document = documents[i % len(documents)]
        if pid is not None and i % every == 0:
            rss_trace.append(memory(pid)["rss_mb"])
        return post_link(url, f"{document.id}#{i}", document.text)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = [r for r in pool.map(one, range(count)) if r is not None]
    seconds = time.perf_counter() - clock
    batches = httpx.get(f"{url}/health").json()["batches"] - batches_before
    latencies = [latency for latency, _ in results]
    ok = sum(status == 200 for _, status in results)
    return {
        "phase": name,
        "clients": workers,
        "requests": len(results),
        "asked": count,
        "cut_by_time": len(results) < count,
        "errors": len(results) - ok,
        "seconds": round(seconds, 1),
        "docs_per_s": round(ok / seconds, 3),
        "p50_s": round(percentile(latencies, 50), 2),
        "p95_s": round(percentile(latencies, 95), 2),
        "p99_s": round(percentile(latencies, 99), 2),
        "mean_s": round(statistics.fmean(latencies), 2),
        "batches": batches,
        "mean_batch": round(ok / batches, 2) if batches else None,
        "rss_trace_mb": rss_trace,
    }


def bad_inputs(url: str) -> list[dict]:
    json_type = {"content-type": "application/json"}
    turtle = {"content-type": "text/turtle"}
    megabyte = "Paris and Berlin. " * 58_255
    cases = [
        (
            "body of 11 MB (over --max-body-bytes)",
            "POST",
            "/link",
            {"content": b"x" * 11_000_000, "headers": json_type},
        ),
        (
            "body of 11 MB, chunked (no Content-Length)",
            "POST",
            "/link",
            {"content": iter([b"x" * 1_000_000] * 11), "headers": json_type},
        ),
        ("malformed JSON", "POST", "/link", {"content": b'{"texts": ["Paris"', "headers": json_type}),
        ("invalid UTF-8", "POST", "/link", {"content": b'{"texts": ["Z\xfcrich"]}', "headers": json_type}),
        ("empty text", "POST", "/link", {"json": {"documents": [{"id": "e", "text": ""}]}}),
        ("1 MB document", "POST", "/link", {"json": {"documents": [{"id": "big", "text": megabyte}]}}),
        ("65 documents", "POST", "/link", {"json": {"texts": ["Paris"] * 65}}),
        ("top_k 1000", "POST", "/link", {"json": {"texts": ["Paris"], "top_k": 1000}}),
        ("neither documents nor texts", "POST", "/link", {"json": {"text": "Paris"}}),
        ("unknown entity id", "GET", "/entities/no-such-id", {}),
        ("search k 0", "POST", "/search", {"json": {"text": "Paris", "k": 0}}),
        ("broken Turtle", "POST", "/gerbil", {"content": b"<a> <b> .", "headers": turtle}),
        (
            "Turtle without nif:Context",
            "POST",
            "/gerbil",
            {"content": b"<http://x/a> <http://x/b> <http://x/c> .", "headers": turtle},
        ),
        ("JSON to /gerbil", "POST", "/gerbil", {"json": {"text": "Paris"}}),
    ]
    rows = []
    with httpx.Client(timeout=120) as client:
        for name, method, path, kwargs in cases:
            clock = time.perf_counter()
            response = client.request(method, f"{url}{path}", **kwargs)
            seconds = time.perf_counter() - clock
            try:
                error = response.json()["error"]
            except (ValueError, KeyError):
                error = {"code": None, "message": response.text[:200]}
            alive = client.get(f"{url}/health").status_code == 200
            rows.append(
                {
                    "case": name,
                    "status": response.status_code,
                    "code": error["code"],
                    "message": error["message"],
                    "seconds": round(seconds, 3),
                    "traceback": "Traceback" in response.text,
                    "still_serving": alive,
                }
            )
        good = client.post(f"{url}/link", json={"texts": ["Paris and Berlin."]})
        rows.append({"case": "a good /link after all of them", "status": good.status_code})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument(
        "--max-seconds", type=float, default=900, help="per phase: stop issuing requests after it"
    )
    parser.add_argument("--server-args", default="", help="extra `entqa-kit serve` options, space-separated")
    args = parser.parse_args()
    documents = load_documents(AIDA, None, "aida", "testb").documents
    chars = [len(d.text) for d in documents]
    print(
        json.dumps(
            {
                "machine_cores": os.cpu_count(),
                "aida_b_docs": len(documents),
                "mean_chars": round(statistics.fmean(chars)),
            }
        )
    )
    with running_server(args.index, args.model, args.server_args.split()) as server:
        print(
            json.dumps(
                {
                    "phase": "start",
                    "seconds_to_start": round(server.seconds_to_start, 1),
                    **memory(server.pid),
                }
            ),
            flush=True,
        )
        post_link(server.url, "warm-up", documents[0].text)
        for name, count, workers in (
            ("sequential", args.sequential, 1),
            ("concurrent", args.requests, args.concurrency),
        ):
            result = run_phase(name, server.url, documents, count, workers, args.max_seconds, server.pid)
            print(json.dumps(result | memory(server.pid)), flush=True)
        for row in bad_inputs(server.url):
            print(json.dumps(row, ensure_ascii=False), flush=True)
        print(json.dumps({"phase": "end", **memory(server.pid)}), flush=True)
    log = server.log().splitlines()
    print(
        json.dumps(
            {
                "server_exit_code": server.process.returncode,
                "log_lines": len(log),
                "tracebacks_in_log": sum("Traceback" in line for line in log),
            }
        )
    )


if __name__ == "__main__":
    main()
