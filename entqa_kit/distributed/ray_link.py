"""``entqa-kit link DOCS --out OUT --ray``: a Ray Data pipeline over a pool of linker actors.

The driver reads the inputs with the same readers as a single-process run (bad inputs become
failures there, in order), a pool of actors (each loads the model and the index once) links the
documents in batches (``map_batches`` with an actor class, ``concurrency`` actors of ``num_cpus``
each), and the driver writes the predictions in input order:

- ``--out PRED.jsonl``: one file, line for line the file a single-process run writes;
- ``--out DIR/``: JSONL shards of ``shard_documents`` documents plus ``manifest.json``.

A worker that dies has its batches retried by Ray; documents still missing after the pipeline
ends are run again (``attempts`` passes in all), and any left after that are listed as failed
(E143): every input document ends up linked or listed.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.errors import EntQAError, reason
from entqa_kit.core.paths import check_out_dir, check_out_file
from entqa_kit.core.records import Document
from entqa_kit.distributed.ray_cluster import ray_cluster
from entqa_kit.distributed.ray_index import RayOptions, unwrap

__all__ = ["LinkActor", "RayOptions", "check_ray_outputs", "link_inputs_ray"]
from entqa_kit.documents.link_inputs import DEFAULT_MAX_CHARS, InputFailure, check_inputs, iter_inputs
from entqa_kit.linking.run import LinkRunResult

MANIFEST = "manifest.json"
SHARD_NAME = "predictions-{:05d}.jsonl"


class LinkActor:
    """One Ray actor: a linker loaded once, linking batches of documents into prediction lines."""

    def __init__(
        self, index_dir: str, model_dir: str, batch_size: int, threads: int, overrides: dict[str, Any]
    ) -> None:
        import torch

        from entqa_kit.linking.linker import Linker

        torch.set_num_threads(threads)
        self.linker = Linker.from_pretrained(
            model_dir=Path(model_dir), index_dir=Path(index_dir), **overrides
        )
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from entqa_kit.io.predictions import prediction_line

        lines, mentions, errors = [], [], []
        for doc_id, text in zip(batch["id"], batch["text"]):
            try:
                linked = self.linker.link_document(Document(id=str(doc_id), text=str(text)), self.batch_size)
            except Exception as exc:  # this document fails (counted and listed); the batch goes on
                error = (
                    exc
                    if isinstance(exc, EntQAError)
                    else EntQAError("E147", doc_id=str(doc_id), detail=reason(exc))
                )
                lines.append("")
                mentions.append(0)
                errors.append(json.dumps({"code": error.code, "fields": error.fields}, default=str))
                continue
            lines.append(prediction_line(linked))
            mentions.append(len(linked.mentions))
            errors.append("")
        return {
            "seq": np.asarray(batch["seq"]),
            "line": np.asarray(lines, dtype=object),
            "mentions": np.asarray(mentions, dtype=np.int64),
            "error": np.asarray(errors, dtype=object),
        }


def check_ray_outputs(out: str | Path | None, html: Path | None) -> tuple[Path, bool]:
    """``--out`` as a path and whether it is a directory of shards (given with a trailing slash, or an
    existing directory); E100 without ``--out`` or with ``--html``, E072/E073 for a wrong kind of path."""
    if out is None:
        raise EntQAError(
            "E100", options="--ray", context="without --out", remedy="give --out PRED.jsonl or --out DIR/"
        )
    if html is not None:
        raise EntQAError(
            "E100", options="--html", context="with --ray", remedy="link without --ray for the HTML page"
        )
    is_dir = str(out).endswith(("/", os.sep)) or Path(out).is_dir()
    return (check_out_dir if is_dir else check_out_file)(Path(out)), is_dir


class _Spool:
    """Prediction lines as they arrive, in any order, on disk; read back in input order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.where: dict[int, tuple[int, int]] = {}

    def __enter__(self) -> _Spool:
        self.file = tempfile.TemporaryFile(dir=self.directory)  # noqa: SIM115 - closed by __exit__
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()

    def add(self, seq: int, line: str) -> None:
        data = line.encode("utf-8")
        self.where[seq] = (self.file.seek(0, 2), len(data))
        self.file.write(data)

    def read(self, seq: int) -> bytes:
        offset, size = self.where[seq]
        self.file.seek(offset)
        return self.file.read(size)


def link_inputs_ray(
    inputs: Sequence[str | Path],
    *,
    index_dir: str | Path,
    out: str | Path,
    out_is_dir: bool | None = None,
    model_dir: str | Path | None = None,
    ray: RayOptions | None = None,
    documents_per_batch: int = 8,
    shard_documents: int = 10_000,
    max_chars: int = DEFAULT_MAX_CHARS,
    batch_size: int = 64,
    quiet: bool = False,
    on_failure: Callable[[EntQAError], None] | None = None,
    actor: type = LinkActor,
    **link_overrides: object,
) -> LinkRunResult:
    """Link ``inputs`` on Ray into ``out``: a JSONL file, or a directory of shards when ``out_is_dir``
    (None: when ``out`` ends with a slash or is a directory).

    The arguments are those of :func:`entqa_kit.linking.run.link_inputs` plus the cluster (``ray``),
    the documents per actor call, for a directory the documents per shard, and the actor class."""
    from entqa_kit.core.progress import progress_bar
    from entqa_kit.models.default import model_or_default

    started = time.perf_counter()
    options = ray or RayOptions()
    out, out_is_dir = check_ray_outputs(out, None) if out_is_dir is None else (Path(out), out_is_dir)
    check_inputs([str(i) for i in inputs])
    (out if out_is_dir else out.parent).mkdir(parents=True, exist_ok=True)
    errors: dict[int, EntQAError] = {}
    items: list[dict[str, Any]] = []
    source = " ".join(str(i) for i in inputs)
    for seq, item in enumerate(iter_inputs([str(i) for i in inputs], max_chars)):
        if isinstance(item, InputFailure):
            errors[seq] = item.error
            if on_failure is not None:
                on_failure(item.error)
        else:
            items.append({"seq": seq, "id": item.id, "text": item.text})
    total = len(items) + len(errors)
    with _Spool(out if out_is_dir else out.parent) as spool:
        actor_args = {
            "index_dir": str(Path(index_dir).resolve()),
            "model_dir": str(Path(model_or_default(model_dir)).resolve()),
            "batch_size": batch_size,
            "threads": options.threads,
            "overrides": {k: v for k, v in link_overrides.items() if v is not None},
        }
        cpus = max(1, round(options.workers * options.cpus_per_worker))
        with (
            ray_cluster(options.address, num_cpus=cpus),
            progress_bar("Linking documents", total, quiet) as advance,
        ):
            advance(len(errors))
            passes = _Passes(actor, actor_args, options, documents_per_batch, source, on_failure)
            mentions = passes.run(items, spool, errors, advance)
        order = sorted(spool.where)
        if out_is_dir:
            _write_shards(out, spool, order, shard_documents, errors, total)
        else:
            partial = out.with_name(out.name + ".partial")
            with partial.open("wb") as handle:
                for seq in order:
                    handle.write(spool.read(seq))
            partial.replace(out)
    result = LinkRunResult(documents=len(order), mentions=mentions, out=out)
    result.failures = [errors[seq] for seq in sorted(errors)]
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Passes:
    """Up to ``options.attempts`` pipeline passes, each over the documents still missing."""

    actor: type
    actor_args: dict[str, Any]
    options: RayOptions
    per_batch: int
    source: str
    on_failure: Callable[[EntQAError], None] | None

    def run(
        self,
        items: list[dict[str, Any]],
        spool: _Spool,
        errors: dict[int, EntQAError],
        advance: Callable[[int], None],
    ) -> int:
        """Link ``items`` into ``spool`` (failures into ``errors``; documents left after the last pass
        are E143). Returns the number of mentions."""
        pending, last_problem, mentions = items, "no detail", 0
        for _attempt in range(self.options.attempts):
            if not pending:
                break
            try:
                for row in _pipeline(pending, self.actor, self.actor_args, self.options, self.per_batch):
                    seq = int(row["seq"])
                    if seq in spool.where or seq in errors:
                        continue
                    if row["error"]:
                        failed = json.loads(row["error"])
                        self._fail(errors, seq, EntQAError(failed["code"], **failed["fields"]))
                    else:
                        spool.add(seq, row["line"])
                        mentions += int(row["mentions"])
                    advance(1)
            except Exception as exc:  # the pipeline gave up (a worker failed every retry): run the rest again
                error = unwrap(exc)
                if error.code != "E144":  # a coded error (no index, bad model): retrying cannot help
                    raise error from None
                last_problem = str(error.fields["detail"])
            pending = [x for x in pending if x["seq"] not in spool.where and x["seq"] not in errors]
        attempts = self.options.attempts
        for item in pending:
            lost = EntQAError(
                "E143", source=self.source, doc_id=item["id"], attempts=attempts, detail=last_problem
            )
            self._fail(errors, item["seq"], lost)
        return mentions

    def _fail(self, errors: dict[int, EntQAError], seq: int, error: EntQAError) -> None:
        errors[seq] = error
        if self.on_failure is not None:
            self.on_failure(error)


def _pipeline(
    items: list[dict[str, Any]], actor: type, actor_args: dict, options: RayOptions, per_batch: int
):
    """Rows ``seq, line, mentions, error`` of the linked ``items``, in input order."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    blocks = max(1, min(len(items) // per_batch, 4 * options.workers * 8))
    with warnings.catch_warnings():  # bounded restarts have no named parameter (Ray's default: forever)
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            actor,
            fn_constructor_kwargs=actor_args,
            batch_size=per_batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=options.workers),
            num_cpus=options.cpus_per_worker,
            max_restarts=options.attempts,
            max_task_retries=options.attempts,
        )
    yield from dataset.iter_rows()


def _write_shards(
    out: Path, spool: _Spool, order: list[int], per_shard: int, errors: dict[int, EntQAError], total: int
) -> None:
    """``predictions-NNNNN.jsonl`` shards in input order, then ``manifest.json`` (written last)."""
    for stale in out.glob("predictions-*.jsonl"):
        stale.unlink()
    (out / MANIFEST).unlink(missing_ok=True)
    shards = []
    for number, begin in enumerate(range(0, len(order), per_shard)):
        name = SHARD_NAME.format(number)
        part = out / (name + ".partial")
        chunk = order[begin : begin + per_shard]
        with part.open("wb") as handle:
            for seq in chunk:
                handle.write(spool.read(seq))
        part.replace(out / name)
        shards.append({"file": name, "documents": len(chunk)})
    manifest = {
        "format": "entqa-kit predictions shards",
        "documents": len(order),
        "failed": len(errors),
        "total": total,
        "shards": shards,
        "failures": [errors[seq].message for seq in sorted(errors)],
    }
    write_json_atomic(out / MANIFEST, manifest)
