"""Reader training on the trained retriever's candidates (gold entities always included)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from entqa_kit.core.config import Recipe
from entqa_kit.core.progress import progress_bar, stderr_console
from entqa_kit.core.records import Document, Passage
from entqa_kit.documents import load_training_documents, subsample
from entqa_kit.documents.passages import passages_of
from entqa_kit.index.dense import DenseIndex
from entqa_kit.models.model_dir import TrainingRecord, read_model_config, write_model_dir
from entqa_kit.reading.reader_io import (
    EntityTokenCache,
    ReaderBundle,
    check_same_vocabulary,
    load_reader,
    save_reader,
)
from entqa_kit.retrieval.loading import load_retriever
from entqa_kit.training.checkpoint import load_checkpoint, save_checkpoint
from entqa_kit.training.schedule import linear_warmup_decay

READER_CHECKPOINT = "checkpoints/reader-last"


@dataclass(frozen=True)
class ReaderTrainResult:
    model_dir: Path
    seconds: float
    final_loss: float


def gold_spans(passage: Passage, document: Document) -> dict[str, list[tuple[int, int]]]:
    """Gold entity id -> wordpiece spans (1-based positions) of its mentions inside the passage."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for mention in document.mentions:
        inside = [
            i for i, (s, e) in enumerate(passage.offsets) if s >= mention.start and e <= mention.end and e > s
        ]
        if not mention.in_kb or not inside:
            continue
        if passage.offsets[inside[0]][0] != mention.start or passage.offsets[inside[-1]][1] != mention.end:
            continue  # the mention is cut by the window edge
        for entity in mention.entities:
            spans.setdefault(entity, []).append((inside[0] + 1, inside[-1] + 1))
    return spans


def model_index_dir(model_dir: Path, recipe: Recipe) -> Path:
    own = model_dir / "index"
    return own if (own / "manifest.json").is_file() else Path(recipe.data.index)


def training_pairs(
    passages: Sequence[Passage], documents: dict[str, Document], retrieved: np.ndarray, kb, k: int
) -> list[tuple[Passage, list[int], list[list[tuple[int, int]]]]]:
    """Per passage: K candidate rows (golds first, then the retriever's best) and each one's gold spans."""
    examples = []
    for passage, found in zip(passages, retrieved):
        spans = gold_spans(passage, documents[passage.document_id])
        gold_rows = {row: s for e, s in spans.items() if (row := kb.row_of(e)) is not None}
        if not gold_rows:
            continue
        rows = list(gold_rows)[:k]
        rows += [int(r) for r in found if r >= 0 and int(r) not in gold_rows][: k - len(rows)]
        if len(rows) < k:
            continue
        examples.append((passage, rows, [gold_rows.get(r, []) for r in rows]))
    return examples


def train_reader(
    recipe: Recipe, model_dir: Path, resume: bool = False, quiet: bool = False
) -> ReaderTrainResult:
    import torch

    from entqa_kit.reading.pair import build_inputs, reader_loss

    started = time.perf_counter()
    config = recipe.reader
    torch.manual_seed(config.seed)
    retriever, passage_config = load_retriever(str(model_dir))
    index = DenseIndex.load(model_index_dir(model_dir, recipe), retriever.entity_encoder.fingerprint)
    kb = index.kb
    docs = load_training_documents(recipe.data, kb).documents
    by_id = {d.id: d for d in docs}
    passages = [p for p in passages_of(docs, retriever.passage_encoder.tokenizer, passage_config) if p.gold]
    passages = subsample(passages, config.max_train_passages, config.seed)
    with progress_bar("Retrieving training candidates", len(passages), quiet) as advance:
        vectors = retriever.encode_passages(passages, 64, advance)
    _, retrieved = index.search(vectors, config.train_k + 8)
    examples = training_pairs(passages, by_id, retrieved, kb, config.train_k)

    if recipe.init_from is not None:  # adapt a trained reader (its encoder and heads)
        bundle = load_reader(Path(recipe.init_from), config.dtype)
        check_same_vocabulary(bundle.tokenizer, retriever.passage_encoder.tokenizer, recipe.init_from)
    else:
        bundle = ReaderBundle.create(config.model, config.dtype)
    entity_tokens = EntityTokenCache(kb, bundle.tokenizer, config.max_entity_tokens)
    optimizer = torch.optim.AdamW(bundle.model.parameters(), lr=config.learning_rate)
    total = -(-len(examples) // config.batch_size) * config.epochs
    schedule = linear_warmup_decay(optimizer, total, config.warmup_fraction)
    state = {"epochs_done": 0, "step": 0, "history": []}
    if resume and (
        restored := load_checkpoint(model_dir, {"reader": bundle.model}, optimizer, READER_CHECKPOINT)
    ):
        state = restored
        schedule.load_state_dict(state["scheduler"])
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bundle.compute_dtype == "bfloat16")
    loss_value = float("nan")
    for epoch in range(state["epochs_done"], config.epochs):
        order = np.random.default_rng(config.seed + epoch).permutation(len(examples))
        bundle.model.train()
        with progress_bar(f"reader epoch {epoch + 1}/{config.epochs}", len(order), quiet) as advance:
            for start in range(0, len(order), config.batch_size):
                batch = [examples[i] for i in order[start : start + config.batch_size]]
                pair_passages = [p for p, rows, _ in batch for _ in rows]
                pair_entities = [entity_tokens[r] for _, rows, _ in batch for r in rows]
                spans = [s for _, _, per_row in batch for s in per_row]
                with autocast:
                    inputs = build_inputs(pair_passages, pair_entities, bundle.tokenizer)
                    start_logp, end_logp, rerank = bundle.model(inputs)
                    loss = reader_loss(start_logp, end_logp, rerank, spans, config.train_k)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                state["step"] += 1
                loss_value = loss.item()
                advance(len(batch), f"loss {loss_value:.3f}")
        state["epochs_done"] = epoch + 1
        state["history"].append({"epoch": epoch + 1, "loss": round(loss_value, 4)})
        state["scheduler"] = schedule.state_dict()
        save_checkpoint(model_dir, {"reader": bundle.model}, optimizer, state, READER_CHECKPOINT)
        if not quiet:
            stderr_console.print(f"reader epoch {epoch + 1}: loss {loss_value:.3f}")
    bundle.model.eval()
    save_reader(bundle, model_dir)
    seconds = time.perf_counter() - started
    model_config = read_model_config(model_dir)
    model_config.reader = config
    model_config.reader_training = TrainingRecord(history=state["history"], seconds=seconds)
    write_model_dir(model_dir, model_config)
    return ReaderTrainResult(model_dir, seconds, loss_value)
