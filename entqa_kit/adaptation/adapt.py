"""``adapt``: a linker for your KB from your documents, with no labels or a few.

``adapt("kb.jsonl", "docs/", "model")`` builds or reuses the KB index (the starting model's entity
tower), finds silver mentions of the KB's names in the unlabelled documents, writes a recipe
(``init_from`` the shipped default model) into ``model/recipe.toml``, trains both stages on silver
(and labelled) documents plus the KB's own names as retriever queries, learns names from the labelled
documents (``link.labelled_names``), turns name-anchored spans on, and calibrates γ on ``dev``
(or on held-out labelled documents; else the starting model's γ is kept). ``entqa-kit train --recipe
model/recipe.toml --out model`` reproduces the training. Every step resumes (``resume=True``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from entqa_kit.core.config import (
    DataConfig,
    IndexConfig,
    LinkConfig,
    ReaderTrainConfig,
    Recipe,
    SilverConfig,
)
from entqa_kit.core.errors import EntQAError
from entqa_kit.kb.name_matcher import MatcherOptions

RECIPE_FILE = "recipe.toml"
SILVER_FILE = "silver.jsonl"
LABELLED_FILE = "labelled.jsonl"
HELD_OUT_FILE = "held_out.jsonl"
HELD_OUT_SHARE = 0.2
MIN_LABELLED_TO_HOLD_OUT = 5

# Training throughput on the 2-core development machine (MiniLM towers, 32-wordpiece passages, the
# entity tower frozen; pair reader: 4 candidates of 64 wordpieces per passage), used to turn
# --budget-minutes into passages (benchmarks/RESULTS.md, "Adaptation without labels").
RETRIEVER_PASSAGES_PER_MINUTE = 2500
READER_PASSAGES_PER_MINUTE = {"pair": 350, "joint": 500}
BUDGET_SHARES = {"retriever": 0.3, "reader": 0.55}
"""Shares of the budget for the two stages; the rest is for silver matching, indexing and calibration."""
MAX_LABELLED_REPEAT = 20
"""At most this many readings of each labelled passage per epoch (``labelled_repeat``)."""
ALIAS_QUERY_SHARE = 0.3
"""Share of the retriever's examples that are the KB's own names (SapBERT-style pretraining)."""


@dataclass(frozen=True)
class AdaptOptions:
    """What ``adapt`` reads besides the KB and the unlabelled documents, and how much it may spend."""

    labelled: Path | None = None
    dev: Path | None = None
    index_dir: Path | None = None
    init_from: Path | None = None
    budget_minutes: float = 20.0
    matcher: MatcherOptions = field(default_factory=MatcherOptions)
    silver_mask: float = 0.3
    name_anchor_floor: float | None = 0.05
    """``link.name_anchor_floor`` of the adapted model (:mod:`entqa_kit.linking.name_anchors`)."""
    silver_abbreviations: bool = True
    name_variants: bool = True
    """British spellings and plurals of the KB's names: matched for silver and by the linker."""
    unlabelled_weight: float | None = None
    kb_format: str | None = None
    resume: bool = False
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdaptResult:
    """What ``adapt`` wrote and the figures it reached."""

    model_dir: Path
    index_dir: Path
    recipe: Path
    index_reused: bool
    silver: dict
    training: dict
    threshold: float
    threshold_source: str
    """``dev``, ``held-out`` or ``kept`` (the starting model's γ: nothing labelled to calibrate on)."""
    calibration: dict | None
    seconds: dict[str, float]

    def summary_rows(self) -> list[tuple[str, str, float]]:
        """(step, what it gave, minutes) for a summary table; the texts are data, to be escaped."""
        return _summary_rows(self)

    def as_json(self) -> dict:
        return {
            "model": str(self.model_dir),
            "index": str(self.index_dir),
            "recipe": str(self.recipe),
            "index_reused": self.index_reused,
            "silver": self.silver,
            "training": self.training,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "calibration": self.calibration,
            "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
        }


def _names_row(names: dict | None) -> list[tuple[str, str, str]]:
    """The summary row of the names learnt from the labelled documents (none without them)."""
    if not names:
        return []
    text = (
        f"{names['aliases']:,} spellings learnt from {names['documents']:,} labelled documents; "
        f"{names['excluded']:,} KB names they link mostly wrongly left out"
    )
    return [("names", text, "train")]


def _summary_rows(result: AdaptResult) -> list[tuple[str, str, float]]:
    silver, training, calibration = result.silver, result.training, result.calibration
    dev = training.get("dev")
    recall = ", ".join(f"R@{k} {v:.1f}" for k, v in dev["recall_at"].items()) if dev else "not measured"
    if calibration:
        gamma = (
            f"{result.threshold:.4g}, calibrated on {result.threshold_source} ({calibration['data']}): "
            f"P {calibration['precision']:.2f} R {calibration['recall']:.2f} F1 {calibration['f1']:.2f}; "
            f"name fallback {'on' if calibration.get('name_fallback') else 'off'} (the better there)"
        )
    else:
        gamma = f"{result.threshold:.4g}, the starting model's: nothing labelled to calibrate on (give --dev)"
    rows = [
        ("index", f"{result.index_dir} ({'reused' if result.index_reused else 'built'})", "index"),
        ("silver", f"{silver['mentions']:,} mentions of {silver['entities']:,} entities in "
         f"{silver['documents']:,} documents ({silver.get('abbreviation_mentions', 0):,} short forms)",
         "silver"),
        ("train", f"retriever dev {recall}; reader loss {training.get('reader_loss')}", "train"),
        *_names_row(training.get("labelled_names")),
        ("γ", gamma, "calibrate"),
    ]  # fmt: skip
    return [(step, text, result.seconds.get(timing, 0.0) / 60) for step, text, timing in rows]


def budget_settings(minutes: float, reader_kind: str) -> dict[str, int]:
    """Training passages for each stage (one epoch each) that fit ``minutes`` on the dev machine."""
    if not minutes > 0:
        raise EntQAError("E041", what="--budget-minutes", expected="a number of minutes > 0", value=minutes)
    retriever = max(8, round(minutes * BUDGET_SHARES["retriever"] * RETRIEVER_PASSAGES_PER_MINUTE))
    reader = round(minutes * BUDGET_SHARES["reader"] * READER_PASSAGES_PER_MINUTE.get(reader_kind, 350))
    return {
        "retriever_passages": max(4, round(retriever * (1 - ALIAS_QUERY_SHARE))),
        "alias_queries": max(4, round(retriever * ALIAS_QUERY_SHARE)),
        "reader_passages": max(4, reader),
    }


def adapt(
    kb_or_index: str | Path,
    unlabelled: str | Path,
    out: str | Path,
    options: AdaptOptions | None = None,
    quiet: bool = False,
) -> AdaptResult:
    """Adapt the starting model (``options.init_from``, default: the shipped one) to the KB: see the
    module docstring."""
    from entqa_kit.core.progress import stderr_console
    from entqa_kit.evaluation.calibrate_run import calibrate
    from entqa_kit.models.default import model_or_default
    from entqa_kit.models.model_dir import read_model_config
    from entqa_kit.training.recipes import load_recipe
    from entqa_kit.training.run import train

    options = options or AdaptOptions()
    kb_or_index, unlabelled, out = Path(kb_or_index), Path(unlabelled), Path(out)
    init = Path(model_or_default(options.init_from)).resolve()
    recipe_path = out / RECIPE_FILE
    if recipe_path.is_file() and not options.resume:
        raise EntQAError("E160", path=out)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    index_dir, kb_file, encoder, reused = _index(kb_or_index, out, init, options, quiet)
    seconds["index"] = time.perf_counter() - started
    if not quiet:
        from entqa_kit.core.display import literal

        stderr_console.print(f"Index {literal(index_dir)} ({'reused' if reused else 'built'})")

    started = time.perf_counter()
    silver = _silver(kb_or_index, unlabelled, out, options, quiet)
    seconds["silver"] = time.perf_counter() - started
    labelled, held_out = _labelled(options, index_dir, out)
    if not silver["mentions"] and labelled is None:
        raise EntQAError("E161", path=unlabelled, documents=silver["documents"])

    from entqa_kit.adaptation.recipe_file import write_recipe

    if recipe_path.is_file():  # resume: the settings of the run being continued
        recipe = load_recipe(recipe_path)
        link = excluding(recipe.link or LinkConfig(), silver.get("frequent", {}))
        changed = link != recipe.link  # a run begun before name_exclude existed
        recipe.link = link
    else:
        recipe = _recipe(
            init, kb_file, index_dir, encoder, labelled, options, out, silver.get("frequent", {}),
            silver["documents"],
        )  # fmt: skip
        if options.overrides:
            from entqa_kit.training.recipes import overridden

            recipe = overridden(recipe, list(options.overrides), "--set ")
        changed = True
    if changed:
        header = (
            f"Written by entqa-kit adapt ({options.budget_minutes:g}-minute budget).\n"
            f"Reproduce: entqa-kit train --recipe {recipe_path} --out NEW_MODEL_DIR\n"
            f"(it reads the silver mentions in {out / SILVER_FILE})"
        )
        write_recipe(recipe, recipe_path, header)

    started = time.perf_counter()
    trained = train(recipe, out, resume=options.resume, quiet=quiet)
    seconds["train"] = time.perf_counter() - started

    started = time.perf_counter()
    calibration, source = None, "kept"
    data = options.dev or held_out
    if data is not None:
        result = calibrate(data, index_dir=index_dir, model_dir=out, quiet=quiet, name_fallback="auto")
        calibration, source = result.record.model_dump(), "dev" if options.dev else "held-out"
    seconds["calibrate"] = time.perf_counter() - started
    threshold = read_model_config(out).link.threshold
    return AdaptResult(
        model_dir=out,
        index_dir=index_dir,
        recipe=recipe_path,
        index_reused=reused,
        silver=silver,
        training=trained.as_json() | _training_counts(out),
        threshold=threshold,
        threshold_source=source,
        calibration=calibration,
        seconds=seconds,
    )


def _index(kb_or_index: Path, out: Path, init: Path, options: AdaptOptions, quiet: bool):
    """(index dir, KB file, entity encoder config, reused): an index directory as it is, or the KB
    indexed with the starting model's entity tower (``entqa-kit index`` with no --model)."""
    from entqa_kit.index.build import build_index
    from entqa_kit.index.dense import IndexManifest
    from entqa_kit.models.model_dir import entity_encoder_config

    if kb_or_index.is_dir():
        manifest = IndexManifest.read(kb_or_index)  # E030 when it is not an index
        return kb_or_index.resolve(), manifest.kb_source, manifest.encoder, True
    index_dir = (options.index_dir or out / "index").resolve()
    encoder = entity_encoder_config(str(init))
    built = build_index(kb_or_index, index_dir, encoder, kb_format=options.kb_format, quiet=quiet)
    return index_dir, str(kb_or_index.resolve()), encoder, built.reused


def _silver(kb_or_index: Path, unlabelled: Path, out: Path, options: AdaptOptions, quiet: bool) -> dict:
    """Silver mentions of the unlabelled documents in ``out/silver.jsonl`` (kept when resuming)."""
    from entqa_kit.adaptation.silver import SilverOptions, make_silver

    path = out / SILVER_FILE
    summary = out / "silver.summary.json"
    if options.resume and path.is_file() and summary.is_file():
        return json.loads(summary.read_text(encoding="utf-8"))
    silver_options = SilverOptions(
        matcher=dataclasses.replace(options.matcher, variants=options.name_variants),
        kb_format=options.kb_format,
        abbreviations=options.silver_abbreviations,
    )
    result = make_silver(kb_or_index, unlabelled, path, silver_options, quiet=quiet).as_json()
    from entqa_kit.core.atomic import write_json_atomic

    write_json_atomic(summary, result)
    return result


def _labelled(options: AdaptOptions, index_dir: Path, out: Path) -> tuple[Path | None, Path | None]:
    """(training documents, held-out documents for γ): with no --dev and at least 5 labelled documents,
    the last 20% are held out (both written as Document JSONL into ``out``)."""
    if options.labelled is None:
        return None, None
    if options.dev is not None:
        return options.labelled.resolve(), None
    from entqa_kit.adaptation.document_files import write_documents
    from entqa_kit.documents import load_labelled_documents
    from entqa_kit.index.dense import KB_STORE
    from entqa_kit.kb.store import KnowledgeBase

    kb = KnowledgeBase(index_dir / KB_STORE)
    try:
        documents = load_labelled_documents(options.labelled, kb).documents
    finally:
        kb.close()
    if len(documents) < MIN_LABELLED_TO_HOLD_OUT:
        return options.labelled.resolve(), None
    held = max(1, round(len(documents) * HELD_OUT_SHARE))
    train_part, held_part = documents[:-held], documents[-held:]
    return (
        write_documents(train_part, out / LABELLED_FILE).resolve(),
        write_documents(held_part, out / HELD_OUT_FILE).resolve(),
    )


def _recipe(
    init: Path,
    kb_file: str,
    index_dir: Path,
    encoder,
    labelled: Path | None,
    options: AdaptOptions,
    out: Path,
    frequent: dict[str, float] | None = None,
    silver_documents: int = 0,
) -> Recipe:
    """The recipe ``adapt`` trains: the starting model's settings, one epoch per stage sized by the
    budget, silver documents mixed with the labelled ones, the KB's names as retriever queries; the
    names ``silver`` found too frequent in the user's documents are kept out of the linker's matcher."""
    from entqa_kit.models.model_dir import read_model_config

    start = read_model_config(init)
    if start.reader is None:
        raise EntQAError("E042", path=init)
    reader_train = start.reader_train or ReaderTrainConfig()
    budget = budget_settings(options.budget_minutes, start.reader.kind)
    data = DataConfig(
        kb=kb_file,
        index=str(index_dir),
        train=str(labelled) if labelled else None,
        dev=str(options.dev.resolve()) if options.dev else None,
        unlabelled=str((out / SILVER_FILE).resolve()),
        unlabelled_weight=options.unlabelled_weight,
        silver=SilverConfig(
            source="file",
            min_chars=options.matcher.min_chars,
            max_doc_share=options.matcher.max_doc_share or 1.0,
            ambiguous=options.matcher.ambiguous,
            case=options.matcher.case,
            abbreviations=options.silver_abbreviations,
            variants=options.name_variants,
        ),
    )
    retriever = start.retriever.model_copy(
        update={
            "epochs": 1,
            "max_train_passages": budget["retriever_passages"],
            "kb_alias_queries": budget["alias_queries"],
            "learning_rate": 5e-5,
            "freeze_entity_tower": True,
        }
    )
    reader_train = reader_train.model_copy(
        update={
            "epochs": 1,
            "max_train_passages": budget["reader_passages"],
            "silver_mask": options.silver_mask,
            "labelled_repeat": labelled_repeat(labelled, silver_documents),
            "learning_rate": 5e-5,
            "batch_size": 8,
        }
    )
    return Recipe(
        name=f"adapt-{out.name}",
        description=f"adapted from {init.name} with silver mentions (entqa-kit adapt)",
        data=data,
        encoder=encoder,
        passages=start.passages,
        retriever=retriever,
        reader=start.reader,
        reader_train=reader_train,
        link=excluding(start.link or LinkConfig(), frequent or {}).model_copy(
            update={
                "name_variants": options.name_variants,
                "name_anchor_floor": options.name_anchor_floor,
                "labelled_names": labelled is not None,
            }
        ),
        index=IndexConfig(),
        init_from=str(init),
    )


def labelled_repeat(labelled: Path | None, silver_documents: int) -> int:
    """How often the reader reads each labelled passage per epoch: about as often as it reads silver
    ones in all (silver documents per labelled document, at most ``MAX_LABELLED_REPEAT``)."""
    if labelled is None or not silver_documents:
        return 1
    from entqa_kit.documents import load_documents

    count = len(load_documents(labelled, None).documents)
    return max(1, min(MAX_LABELLED_REPEAT, round(silver_documents / max(1, count))))


def excluding(link: LinkConfig, frequent: dict[str, float]) -> LinkConfig:
    """``link`` with the ``frequent`` names added to ``name_exclude``."""
    return link.model_copy(update={"name_exclude": sorted({*link.name_exclude, *frequent})})


def _training_counts(model_dir: Path) -> dict:
    """The retriever's dev R@K history and the reader's loss history, from the model's config."""
    from entqa_kit.models.model_dir import read_model_config

    config = read_model_config(model_dir)
    reader = config.reader_training
    return {
        "retriever_history": config.training.history,
        "reader_history": reader.history if reader else [],
    }
