"""Retriever training: multi-label NCE with shared random and hard negatives, per-epoch
checkpoints, the best epoch kept by dev R@K, resumable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.config import EncoderConfig, Recipe
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.progress import stderr_console
from entqa_kit.documents import load_documents, load_training_documents, subsample
from entqa_kit.documents.passages import passages_of
from entqa_kit.evaluation.recall import RecallReport, gold_rows
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
    write_model_dir,
)
from entqa_kit.retrieval.retriever import (
    Retriever,
)
from entqa_kit.training import distributed
from entqa_kit.training.alias_queries import alias_queries
from entqa_kit.training.loop import FitConfig, fit
from entqa_kit.training.retriever_objective import RetrieverObjective


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    best_epoch: int | None
    dev_recall: RecallReport | None
    seconds: float
    index_dir: Path
    reindexed: bool


def ensure_base_index(recipe: Recipe, quiet: bool, model_fingerprint: str | None = None) -> DenseIndex:
    """The recipe's KB index (built with the base encoder if missing), refused (E031) when it was
    built with other encoder settings than the recipe's ``[encoder]``."""
    directory = Path(recipe.data.index)
    if not (directory / "manifest.json").is_file() and distributed.is_main():
        build_index(
            Path(recipe.data.kb),
            directory,
            recipe.encoder,
            recipe.index,
            kb_format=recipe.data.kb_format,
            quiet=quiet,
        )
    distributed.barrier()  # under torchrun, rank 0 builds it and the others wait
    return DenseIndex.load(directory, model_fingerprint=model_fingerprint)


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


RETRIEVER_CHECKPOINT = "checkpoints/last"


def train_retriever(
    recipe: Recipe, model_dir: Path, resume: bool = False, quiet: bool = False
) -> TrainResult:
    config = recipe.retriever
    entity_encoder = TextEncoder.load(recipe.encoder)
    index = ensure_base_index(recipe, quiet, entity_encoder.fingerprint)
    kb = index.kb
    passage_encoder = TextEncoder.load(starting_passage_tower(recipe))
    retriever = Retriever(passage_encoder, entity_encoder, config)
    tokenizer = passage_encoder.tokenizer

    data = recipe.data
    train_docs = load_training_documents(data, kb)
    train_passages = passages_of(train_docs.documents, tokenizer, recipe.passages)
    train_golds = gold_rows(train_passages, kb)
    if not any(train_golds) and not config.kb_alias_queries:
        read = sum(len(d.mentions) for d in train_docs.documents)
        resolved = sum(1 for d in train_docs.documents for m in d.mentions if m.in_kb)
        raise EntQAError(
            "E044",
            source=data.train or data.unlabelled,
            docs=len(train_docs.documents),
            read=read,
            resolved=resolved,
        )
    keep = [i for i, g in enumerate(train_golds) if g or not config.only_passages_with_gold]
    keep = subsample(keep, config.max_train_passages, config.seed)
    dev_passages = []
    if data.dev:
        dev_docs = load_documents(Path(data.dev), kb, data.format, data.dev_split)
        dev_passages = passages_of(dev_docs.documents, tokenizer, recipe.passages)
    queries, query_golds = alias_queries(  # KB pretraining: names as queries for their entities
        kb,
        tokenizer,
        config.kb_alias_queries,
        config.kb_alias_context_words,
        recipe.passages.length,
        config.seed,
    )
    if not quiet:
        aliases = f" + {len(queries):,} KB name queries" if queries else ""
        stderr_console.print(f"train: {train_docs.summary()}; {len(keep):,} passages with gold{aliases}")
    objective = RetrieverObjective(
        retriever,
        recipe,
        index,
        [train_passages[i] for i in keep] + queries,
        [train_golds[i] for i in keep] + query_golds,
        dev_passages,
        model_dir,
    )
    fit_config = FitConfig(
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        warmup_fraction=config.warmup_fraction,
        seed=config.seed,
        bf16=passage_encoder.compute_dtype == "bfloat16",
        checkpoint=RETRIEVER_CHECKPOINT,
        label="retriever",
    )
    steps = -(-objective.num_examples() // config.batch_size)
    result = fit(objective, fit_config, model_dir, steps, resume, quiet)

    frozen = config.freeze_entity_tower
    entity_config = concrete_config(entity_encoder, recipe.encoder.model if frozen else ENTITY_TOWER)
    index_dir = Path(recipe.data.index) if frozen else model_dir / "index"
    if not distributed.is_main():  # rank 0 alone writes the model directory and the index
        distributed.barrier()
        return TrainResult(model_dir, result.best_epoch, None, result.seconds, index_dir, not frozen)
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
                best_epoch=result.best_epoch,
                dev_recall_at=result.best_metrics.get("dev_recall_at", {}),
                history=result.history,
                seconds=result.seconds,
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
    distributed.barrier()
    return TrainResult(
        model_dir, result.best_epoch, objective.best_report, result.seconds, index_dir, not frozen
    )
