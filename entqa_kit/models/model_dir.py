"""The model directory: ``entqa_config.json``, ``retriever/`` towers as safetensors, a model card.

A model directory names each tower by a path relative to itself, or by the base
model it was not trained away from (a frozen entity tower keeps the base model,
so the KB index built with that model stays valid).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from entqa_kit.core.atomic import write_json_atomic, write_text_atomic
from entqa_kit.core.config import (
    CalibrationRecord,
    EncoderConfig,
    LinkConfig,
    PassageConfig,
    ReaderConfig,
    ReaderTrainConfig,
    Recipe,
    RetrieverConfig,
    split_legacy_reader,
)
from entqa_kit.core.json_files import read_json_model
from entqa_kit.models.encoder import TextEncoder
from entqa_kit.models.not_a_model import not_a_model_dir

CONFIG_FILE = "entqa_config.json"
PASSAGE_TOWER = "retriever/passage_encoder"
ENTITY_TOWER = "retriever/entity_encoder"


class TrainingRecord(BaseModel):
    best_epoch: int | None = None
    dev_recall_at: dict[str, float] = Field(default_factory=dict)
    history: list[dict] = Field(default_factory=list)
    seconds: float = 0.0


class ModelConfig(BaseModel):
    """Everything needed to rebuild the model, saved as ``entqa_config.json``."""

    format_version: int = 1
    versions: dict[str, str]
    passages: PassageConfig
    retriever: RetrieverConfig
    passage_encoder: EncoderConfig
    entity_encoder: EncoderConfig
    recipe: Recipe | None = None
    training: TrainingRecord = Field(default_factory=TrainingRecord)
    reader: ReaderConfig | None = None
    reader_train: ReaderTrainConfig | None = None
    link: LinkConfig | None = None
    reader_training: TrainingRecord | None = None
    calibration: CalibrationRecord | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_legacy_reader(cls, values: object) -> object:
        return split_legacy_reader(values)


def is_model_dir(path: str | Path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


def concrete_config(encoder: TextEncoder, model: str) -> EncoderConfig:
    """The encoder's config with pooling and normalisation made explicit."""
    return encoder.config.model_copy(
        update={"model": model, "pooling": encoder.pooling, "normalize": encoder.normalize}
    )


def save_encoder(encoder: TextEncoder, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    encoder.model.save_pretrained(directory, safe_serialization=True)
    encoder.tokenizer.save_pretrained(directory)


def resolved_encoder_config(config: EncoderConfig, model_dir: Path) -> EncoderConfig:
    local = model_dir / config.model
    return config.model_copy(update={"model": str(local)}) if local.is_dir() else config


def read_model_config(model_dir: Path) -> ModelConfig:
    path = model_dir / CONFIG_FILE
    if not path.is_file():
        raise not_a_model_dir(model_dir)
    return read_json_model(ModelConfig, path, "E074")


def entity_encoder_config(model: str) -> EncoderConfig:
    """The entity tower's config of a model directory, or a plain encoder's config."""
    if is_model_dir(model):
        return resolved_encoder_config(read_model_config(Path(model)).entity_encoder, Path(model))
    return EncoderConfig(model=model)


def write_model_dir(model_dir: Path, config: ModelConfig) -> None:
    write_json_atomic(model_dir / CONFIG_FILE, config.model_dump(mode="json"))
    write_text_atomic(model_dir / "README.md", model_card(config))


def name_layer(link: LinkConfig) -> str:
    """What the KB's names add to the reader's spans, in words ('' when nothing)."""
    parts = [
        "name candidates" if link.candidates == "dense+names" else "",
        "name fallback" if link.name_fallback else "",
        f"name-anchored spans above {link.name_anchor_floor:g}"
        if link.name_fallback and link.name_anchor_floor is not None
        else "",
        "abbreviations" if link.abbreviations else "",
        "names learnt from labels (labelled_names.json)" if link.labelled_names else "",
    ]
    return ", ".join(p for p in parts if p)


def model_card(config: ModelConfig) -> str:
    recall = ", ".join(f"R@{k} {v:.2f}" for k, v in config.training.dev_recall_at.items()) or "not measured"
    recipe = config.recipe.name if config.recipe else "unknown"
    frozen = (
        "frozen (the base model; its KB index stays valid)"
        if config.retriever.freeze_entity_tower
        else "trained (re-index the KB with this model)"
    )
    lines = [
        f"# entqa-kit model: {recipe}\n",
        "An EntQA model: a dual-encoder retriever trained with multi-label NCE"
        + (" and a span reader." if config.reader else ".")
        + "\n",
        f"- passage tower: `{config.passage_encoder.model}` (pooling {config.passage_encoder.pooling})",
        f"- entity tower: `{config.entity_encoder.model}`, {frozen}",
        f"- passages: L={config.passages.length}, S={config.passages.stride}, topic {config.passages.topic}",
        f"- retriever: best epoch {config.training.best_epoch}; dev {recall}; "
        f"{config.training.seconds / 60:.1f} min of training",
    ]
    if config.reader:
        reader = config.reader
        link = config.link or LinkConfig()
        minutes = config.reader_training.seconds / 60 if config.reader_training else 0.0
        levers = [
            f"stride {link.test_stride}" if link.test_stride else "",
            f"{link.test_entity_tokens} entity wordpieces" if link.test_entity_tokens else "",
            f"candidate margin {link.candidate_margin:g}" if link.candidate_margin is not None else "",
            "int8 reader" if link.quantize != "none" else "",
        ]
        speed = "; when linking: " + ", ".join(x for x in levers if x) if any(levers) else ""
        lines.append(
            f"- reader ({reader.kind}): `{reader.model}`, K={link.test_k} candidates per passage, "
            f"γ={link.threshold:g}"
            f"{speed}; {minutes:.1f} min of training"
        )
        if layer := name_layer(link):
            lines.append(f"- name layer: {layer}")
    if config.calibration:
        c = config.calibration
        split = f" ({c.split})" if c.split else ""
        lines.append(
            f"- γ calibrated on {c.data}{split}: {c.threshold:g} (was {c.previous_threshold:g}), "
            f"F1 {c.f1:.2f} (P {c.precision:.2f}, R {c.recall:.2f}) on {c.num_docs} documents"
            + ("; links on out-of-KB gold mentions counted wrong" if c.out_of_kb == "wrong" else "")
        )
    lines += [
        f"- versions: {config.versions}\n",
        "Weights are safetensors. Pass the directory as `--model` to `entqa-kit link`, `evaluate` "
        "or `calibrate`, or load it with `entqa_kit.Linker.from_pretrained(index_dir, path)`.",
    ]
    return "\n".join(lines) + "\n"
