"""Reader training on the trained retriever's candidates (gold entities always included).

The reader's kind decides the objective: :class:`PairObjective` (EntQA: K pair passes per
passage) or :class:`JointObjective` (one pass per passage with all K candidates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from entqa_kit.core.config import ReaderConfig, ReaderTrainConfig, Recipe
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.progress import progress_bar
from entqa_kit.core.records import Document, Passage
from entqa_kit.documents import load_training_documents, subsample
from entqa_kit.documents.passages import mention_positions, passages_of
from entqa_kit.index.dense import DenseIndex
from entqa_kit.models.model_dir import TrainingRecord, read_model_config, write_model_dir
from entqa_kit.reading.reader_io import ReaderBundle, check_same_vocabulary, load_reader, save_reader
from entqa_kit.retrieval.loading import load_retriever
from entqa_kit.training import distributed
from entqa_kit.training.labelled_repeat import repeat_labelled
from entqa_kit.training.loop import FitConfig, fit
from entqa_kit.training.reader_objectives import JointObjective, PairObjective
from entqa_kit.training.silver_masking import is_masked, mask_silver, masked_rows

READER_CHECKPOINT = "checkpoints/reader-last"


@dataclass(frozen=True)
class ReaderTrainResult:
    model_dir: Path
    seconds: float
    final_loss: float


def gold_spans(passage: Passage, document: Document) -> dict[str, list[tuple[int, int]]]:
    """Gold entity id -> wordpiece spans (1-based positions) of its mentions inside the passage."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for mention, positions in mention_positions(passage, document):
        if mention.in_kb and not is_masked(mention):
            for entity in mention.entities:
                spans.setdefault(entity, []).append(positions)
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
        unknown = gold_rows.keys() | masked_rows(passage, documents[passage.document_id], kb)
        rows = list(gold_rows)[:k]
        rows += [int(r) for r in found if r >= 0 and int(r) not in unknown][: k - len(rows)]
        if len(rows) < k:
            continue
        examples.append((passage, rows, [gold_rows.get(r, []) for r in rows]))
    return examples


def cut_down_candidates(
    index: DenseIndex,
    vectors: np.ndarray,
    retrieved: np.ndarray,
    passages: Sequence[Passage],
    documents: dict[str, Document],
    train: ReaderTrainConfig,
    quiet: bool,
) -> list[tuple[int, ...]]:
    """Each passage's candidates from a cut-down KB (``narrow_kb``): without its golds, or another kind."""
    from entqa_kit.training.narrow_kb import narrow_candidates

    kb = index.kb
    golds = [
        [row for e in gold_spans(p, documents[p.document_id]) if (row := kb.row_of(e)) is not None]
        for p in passages
    ]
    k, size = train.train_k, train.narrow_kb_size
    return narrow_candidates(index, vectors, golds, retrieved, k, size, train.seed, quiet)


def adapted_reader_config(init_from: Path, wanted: ReaderConfig) -> ReaderConfig:
    """The reader architecture of the model being adapted; refused when the recipe asks another kind."""
    init = read_model_config(init_from).reader
    if init is None:
        raise EntQAError("E042", path=init_from)
    if init.kind != wanted.kind:
        detail = (
            f"init_from {init_from} has a {init.kind} reader but the recipe's [reader] kind is "
            f"{wanted.kind!r}; set reader.kind = {init.kind!r} or adapt a {wanted.kind} model"
        )
        raise EntQAError("E040", detail=detail)
    return init


def require_resolved_gold(documents: Sequence[Document], passages: Sequence[Passage], source: str) -> None:
    """Stop with a coded error when no gold mention of the training data resolves to the KB."""
    if any(p.gold for p in passages):
        return
    read = sum(len(d.mentions) for d in documents)
    resolved = sum(1 for d in documents for m in d.mentions if m.in_kb)
    raise EntQAError("E044", source=source, docs=len(documents), read=read, resolved=resolved)


def train_reader(
    recipe: Recipe, model_dir: Path, resume: bool = False, quiet: bool = False
) -> ReaderTrainResult:
    config, train = recipe.reader, recipe.reader_train
    retriever, passage_config = load_retriever(str(model_dir))
    index = DenseIndex.load(model_index_dir(model_dir, recipe), retriever.entity_encoder.fingerprint)
    kb = index.kb
    docs = mask_silver(load_training_documents(recipe.data, kb).documents, train.silver_mask, train.seed)
    by_id = {d.id: d for d in docs}
    all_passages = passages_of(docs, retriever.passage_encoder.tokenizer, passage_config)
    require_resolved_gold(docs, all_passages, recipe.data.train or recipe.data.unlabelled)
    with_gold = repeat_labelled([p for p in all_passages if p.gold], by_id, train.labelled_repeat)
    passages = subsample(with_gold, train.max_train_passages, train.seed)
    extra = 8 if config.kind == "pair" else 0
    with progress_bar("Retrieving training candidates", len(passages), quiet) as advance:
        vectors = retriever.encode_passages(passages, 64, advance)
    _, retrieved = index.search(vectors, train.train_k + extra)

    if recipe.init_from is not None:  # adapt a trained reader (its encoder, heads and architecture)
        config = adapted_reader_config(Path(recipe.init_from), config)
        bundle = load_reader(Path(recipe.init_from), train.dtype, config)
    else:
        bundle = ReaderBundle.create(config.model, train.dtype, config)
    source = recipe.init_from or config.model
    check_same_vocabulary(bundle.tokenizer, retriever.passage_encoder.tokenizer, source)
    if config.kind == "joint":
        narrow = None
        if train.narrow_kb > 0:
            narrow = cut_down_candidates(index, vectors, retrieved, passages, by_id, train, quiet)
        objective = JointObjective(bundle, config, train, recipe.link, passages, by_id, retrieved, kb, narrow)
    else:
        examples = training_pairs(passages, by_id, retrieved, kb, train.train_k)
        objective = PairObjective(bundle, config, train, examples, kb)
    objective.model_dir = model_dir
    model_config = read_model_config(model_dir)
    model_config.reader, model_config.reader_train, model_config.link = config, train, recipe.link
    model_config.recipe = recipe
    if distributed.is_main():  # under torchrun, rank 0 alone writes files
        write_model_dir(model_dir, model_config)  # each epoch's reader is saved as it finishes
    fit_config = FitConfig(
        epochs=train.epochs,
        learning_rate=train.learning_rate,
        warmup_fraction=train.warmup_fraction,
        seed=train.seed,
        bf16=bundle.compute_dtype == "bfloat16",
        checkpoint=READER_CHECKPOINT,
        label="reader",
    )
    steps = -(-objective.num_examples() // train.batch_size)
    result = fit(objective, fit_config, model_dir, steps, resume, quiet)
    final = result.history[-1]["loss"] if result.history else float("nan")
    if not distributed.is_main():
        distributed.barrier()
        return ReaderTrainResult(model_dir, result.seconds, final)
    bundle.model.eval()
    save_reader(bundle, model_dir)
    model_config = read_model_config(model_dir)
    model_config.reader, model_config.reader_train, model_config.link = config, train, recipe.link
    model_config.recipe = recipe
    model_config.reader_training = TrainingRecord(history=result.history, seconds=result.seconds)
    write_model_dir(model_dir, model_config)
    distributed.barrier()
    return ReaderTrainResult(model_dir, result.seconds, final)
