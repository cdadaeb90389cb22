"""Retriever training: multi-label NCE with shared random and hard negatives, per-epoch
checkpoints, the best epoch kept by dev R@K, resumable."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from entqa_kit.core.config import EncoderConfig, Recipe
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.progress import progress_bar, stderr_console
from entqa_kit.documents import load_documents, load_training_documents, subsample
from entqa_kit.documents.passages import passages_of
from entqa_kit.evaluation.recall import RecallReport, gold_rows, retrieval_recall
from entqa_kit.index.build import build_index
from entqa_kit.index.dense import DenseIndex, library_versions
from entqa_kit.models.encoder import TextEncoder
from entqa_kit.models.model_dir import (
    ENTITY_TOWER,
    PASSAGE_TOWER,
    ModelConfig,
    TrainingRecord,
    concrete_config,
    read_model_config,
    save_encoder,
    write_model_dir,
)
from entqa_kit.retrieval.retriever import (
    Retriever,
    SearchFn,
    mine_hard_negatives,
    multi_label_nce_loss,
    sample_candidates,
)
from entqa_kit.training.checkpoint import load_checkpoint, save_checkpoint
from entqa_kit.training.schedule import linear_warmup_decay


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    best_epoch: int | None
    dev_recall: RecallReport | None
    seconds: float
    index_dir: Path
    reindexed: bool


def ensure_base_index(recipe: Recipe, quiet: bool) -> DenseIndex:
    """The recipe's KB index (built with the base encoder if missing)."""
    directory = Path(recipe.data.index)
    if not (directory / "manifest.json").is_file():
        build_index(
            Path(recipe.data.kb),
            directory,
            recipe.encoder,
            recipe.index,
            kb_format=recipe.data.kb_format,
            quiet=quiet,
        )
    return DenseIndex.load(directory)


def starting_passage_tower(recipe: Recipe) -> EncoderConfig:
    """The base encoder, or with ``init_from`` the passage tower of the model being adapted."""
    if recipe.init_from is None:
        return recipe.encoder
    init = read_model_config(Path(recipe.init_from))
    if not init.retriever.freeze_entity_tower or init.entity_encoder.model != recipe.encoder.model:
        raise EntQAError(
            "E040",
            detail=f"init_from: {recipe.init_from} has entity tower {init.entity_encoder.model!r}, "
            f"not the frozen base {recipe.encoder.model!r} of [encoder]; adapt a frozen-tower model",
        )
    tower = Path(recipe.init_from) / init.passage_encoder.model
    return recipe.encoder.model_copy(
        update={
            "model": str(tower),
            "pooling": init.passage_encoder.pooling,
            "normalize": init.passage_encoder.normalize,
        }
    )


class _FlatSearch:
    """Exact inner-product search over in-memory vectors (the two-tower refresh)."""

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __call__(self, queries: np.ndarray, k: int):
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def train_retriever(
    recipe: Recipe, model_dir: Path, resume: bool = False, quiet: bool = False
) -> TrainResult:
    import torch

    started = time.perf_counter()
    config = recipe.retriever
    torch.manual_seed(config.seed)
    index = ensure_base_index(recipe, quiet)
    kb = index.kb
    passage_encoder = TextEncoder.load(starting_passage_tower(recipe))
    entity_encoder = TextEncoder.load(recipe.encoder)
    retriever = Retriever(passage_encoder, entity_encoder, config)
    tokenizer = passage_encoder.tokenizer

    data = recipe.data
    train_docs = load_training_documents(data, kb)
    train_passages = passages_of(train_docs.documents, tokenizer, recipe.passages)
    train_golds = gold_rows(train_passages, kb)
    keep = [i for i, g in enumerate(train_golds) if g or not config.only_passages_with_gold]
    keep = subsample(keep, config.max_train_passages, config.seed)
    train_passages = [train_passages[i] for i in keep]
    train_golds = [train_golds[i] for i in keep]
    train_ids = retriever.passage_ids(train_passages)
    dev_passages = []
    if data.dev:
        dev_docs = load_documents(Path(data.dev), kb, data.format, data.dev_split)
        dev_passages = passages_of(dev_docs.documents, tokenizer, recipe.passages)
    if not quiet:
        stderr_console.print(f"train: {train_docs.summary()}; {len(train_passages):,} passages with gold")

    frozen = config.freeze_entity_tower
    entity_ids: list[list[int]] = []
    entity_matrix = None
    if frozen:
        entity_matrix = index.vectors  # the fp16 memmap: each step reads only its sampled rows
    else:
        texts = entity_encoder.entity_texts([e for _, e in kb.iter_entities()])
        entity_ids = tokenizer(texts, truncation=True, max_length=recipe.encoder.max_entity_tokens)[
            "input_ids"
        ]

    towers = {"passage_encoder": passage_encoder.model}
    if not frozen:
        towers["entity_encoder"] = entity_encoder.model
    optimizer = torch.optim.AdamW(retriever.trainable_parameters(), lr=config.learning_rate)
    steps_per_epoch = -(-len(train_passages) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    schedule = linear_warmup_decay(optimizer, total_steps, config.warmup_fraction)
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {"epochs_done": 0, "step": 0, "best_score": -1.0, "best_epoch": None, "history": []}
    if resume:
        restored = load_checkpoint(model_dir, towers, optimizer)
        if restored is not None:
            state = restored
            schedule.load_state_dict(state["scheduler"])
            if not quiet:
                stderr_console.print(f"resuming after epoch {state['epochs_done']}")

    num_hard = round(config.num_negatives * config.hard_fraction)
    num_random = config.num_negatives - num_hard
    autocast = torch.autocast(
        "cpu", dtype=torch.bfloat16, enabled=passage_encoder.compute_dtype == "bfloat16"
    )
    best_report: RecallReport | None = None
    for epoch in range(state["epochs_done"], config.epochs):
        rng = np.random.default_rng(config.seed + epoch)
        search: SearchFn = index.search if frozen else _FlatSearch(entity_encoder.encode_ids(entity_ids, 64))
        passage_encoder.model.train()
        entity_encoder.model.train(not frozen)
        order = rng.permutation(len(train_passages))
        with progress_bar(f"epoch {epoch + 1}/{config.epochs}", len(order), quiet) as advance:
            for start in range(0, len(order), config.batch_size):
                batch = order[start : start + config.batch_size]
                golds = [train_golds[i] for i in batch]
                with autocast:
                    passage_vectors = passage_encoder.forward_ids([train_ids[i] for i in batch])
                    hard = mine_hard_negatives(
                        search, passage_vectors.detach().float().numpy(), golds, num_hard
                    )
                    candidates = sample_candidates(golds, len(kb), num_random, hard, rng)
                    if frozen:
                        rows = np.asarray(entity_matrix[candidates.rows], dtype=np.float32)
                        entity_vectors = torch.from_numpy(rows)
                    else:
                        entity_vectors = entity_encoder.forward_ids([entity_ids[r] for r in candidates.rows])
                    scores = config.score_scale * passage_vectors.float() @ entity_vectors.float().T
                    loss = multi_label_nce_loss(scores, torch.from_numpy(candidates.gold_mask))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                state["step"] += 1
                advance(len(batch), f"loss {loss.item():.3f}")
        passage_encoder.model.eval()
        entity_encoder.model.eval()
        report = None
        if dev_passages:
            dev_search = index.search if frozen else _FlatSearch(entity_encoder.encode_ids(entity_ids, 64))
            vectors = retriever.encode_passages(dev_passages)
            report = retrieval_recall(dev_passages, vectors, dev_search, kb, (1, 10, config.recall_k, 100))
        score = report.recall_at[str(config.recall_k)] if report else float(epoch)
        state["history"].append(
            {
                "epoch": epoch + 1,
                "loss": round(loss.item(), 4),
                "dev_recall_at": report.recall_at if report else {},
            }
        )
        if not quiet:
            stderr_console.print(f"epoch {epoch + 1}: dev {report.recall_at if report else 'n/a'}")
        if score > state["best_score"]:
            state["best_score"], state["best_epoch"] = score, epoch + 1
            best_report = report
            save_encoder(passage_encoder, model_dir / PASSAGE_TOWER)
            if not frozen:
                save_encoder(entity_encoder, model_dir / ENTITY_TOWER)
        state["epochs_done"] = epoch + 1
        state["scheduler"] = schedule.state_dict()
        save_checkpoint(model_dir, towers, optimizer, state)

    seconds = time.perf_counter() - started
    entity_config = concrete_config(entity_encoder, recipe.encoder.model if frozen else ENTITY_TOWER)
    best_recall = (
        best_report.recall_at
        if best_report
        else (state["history"][state["best_epoch"] - 1]["dev_recall_at"] if state["best_epoch"] else {})
    )
    write_model_dir(
        model_dir,
        ModelConfig(
            versions=library_versions(),
            passages=recipe.passages,
            retriever=config,
            passage_encoder=concrete_config(passage_encoder, PASSAGE_TOWER),
            entity_encoder=entity_config,
            recipe=recipe,
            training=TrainingRecord(
                best_epoch=state["best_epoch"],
                dev_recall_at=best_recall,
                history=state["history"],
                seconds=seconds,
            ),
        ),
    )
    index_dir = Path(recipe.data.index)
    if not frozen:
        index_dir = model_dir / "index"
        best_entity = TextEncoder.load(
            entity_config.model_copy(update={"model": str(model_dir / ENTITY_TOWER)})
        )
        build_index(
            Path(recipe.data.kb),
            index_dir,
            encoder=best_entity,
            index_config=recipe.index,
            kb_format=recipe.data.kb_format,
            overwrite=True,
            quiet=quiet,
        )
    return TrainResult(model_dir, state["best_epoch"], best_report, seconds, index_dir, reindexed=not frozen)
