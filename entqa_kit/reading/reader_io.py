"""Create, save and load the reader (encoder + heads as safetensors), and cache entity wordpieces.

A created or loaded reader sits on the process's device (``--device``, see ``core.device``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.config import ReaderConfig
from entqa_kit.core.device import current_device
from entqa_kit.core.errors import EntQAError
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.models.encoder import entity_text, resolve_dtype, resolve_model_path
from entqa_kit.reading.placement import model_device

READER_DIR = "reader"
HEADS_FILE = "heads.safetensors"


@dataclass
class ReaderBundle:
    model: object  # entqa_kit.reading.pair.ReaderModel
    tokenizer: object
    compute_dtype: str

    @classmethod
    def create(cls, model: str, dtype: str = "auto", config: ReaderConfig | None = None) -> ReaderBundle:
        """A reader of ``config.kind`` (default: pair) with a pretrained encoder and fresh heads."""
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from entqa_kit.reading.pair import ReaderModel

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = resolve_model_path(model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True)
            encoder = AutoModel.from_pretrained(path, use_safetensors=True, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise EntQAError("E021", model=model, detail=str(exc).splitlines()[0]) from None
        if config is not None and config.kind == "joint":
            from entqa_kit.reading.joint import JointReaderModel, marker_token_ids

            marker_token_ids(tokenizer, config.max_candidates + 1)
            if len(tokenizer) > encoder.get_input_embeddings().num_embeddings:
                encoder.resize_token_embeddings(len(tokenizer))
            reader = JointReaderModel(encoder)
        else:
            reader = ReaderModel(encoder)
        if current_device() != "cpu":  # --device cuda
            reader.to(current_device())
        return cls(reader, tokenizer, resolve_dtype(dtype))

    @property
    def device(self) -> str:
        """Where the reader's weights are (``cpu``, ``cuda:0``); its inputs go there."""
        return model_device(self.model)

    def head_modules(self) -> dict:
        """The reader's heads by name (the pair reader: span and rerank)."""
        model = getattr(self.model, "_orig_mod", self.model)
        if hasattr(model, "head_modules"):
            return model.head_modules()
        return {"span": model.span, "rerank": model.rerank}


def save_reader(bundle: ReaderBundle, model_dir: Path) -> None:
    from safetensors.torch import save_file

    directory = model_dir / READER_DIR
    bundle.model.encoder.save_pretrained(directory / "encoder", safe_serialization=True)
    bundle.tokenizer.save_pretrained(directory / "encoder")
    heads = {
        f"{name}.{key}": value
        for name, module in bundle.head_modules().items()
        for key, value in module.state_dict().items()
    }
    save_file({k: v.contiguous() for k, v in heads.items()}, str(directory / HEADS_FILE))


def load_reader(model_dir: Path, dtype: str = "auto", config: ReaderConfig | None = None) -> ReaderBundle:
    from safetensors.torch import load_file

    directory = model_dir / READER_DIR
    if not (directory / HEADS_FILE).is_file():
        raise EntQAError("E042", path=model_dir)
    bundle = ReaderBundle.create(str(directory / "encoder"), dtype, config)
    heads = load_file(str(directory / HEADS_FILE))
    for name, module in bundle.head_modules().items():
        prefix = f"{name}."
        module.load_state_dict({k.removeprefix(prefix): v for k, v in heads.items() if k.startswith(prefix)})
    bundle.model.eval()
    return bundle


def check_same_vocabulary(passage_tokenizer, reader_tokenizer, model: str) -> None:
    """The reader reads the retriever's passages, so both must share one wordpiece vocabulary."""
    if passage_tokenizer.get_vocab() != reader_tokenizer.get_vocab():
        raise EntQAError("E043", model=model)


class EntityTokenCache:
    """Wordpieces of ``title [SEP] description`` per KB row, tokenised once."""

    def __init__(self, kb: KnowledgeBase, tokenizer, max_tokens: int) -> None:
        self.kb, self.tokenizer, self.max_tokens = kb, tokenizer, max_tokens
        self._cache: dict[int, list[int]] = {}

    def __getitem__(self, row: int) -> list[int]:
        if row not in self._cache:
            self.fill([row])
        return self._cache[row]

    def fill(self, rows) -> None:
        missing = sorted({int(r) for r in rows} - self._cache.keys())
        if not missing:
            return
        sep = self.tokenizer.sep_token or " "
        texts = [entity_text(e, sep) for e in self.kb.by_rows(missing)]
        encoded = self.tokenizer(texts, add_special_tokens=False, truncation=True, max_length=self.max_tokens)
        self._cache.update(zip(missing, encoded["input_ids"]))
