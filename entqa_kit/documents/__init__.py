"""Document readers: JSONL, .txt files, AIDA-YAGO2 tsv, PubTator."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import numpy as np

from entqa_kit.core.config import DataConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.documents.base import DocumentSet
from entqa_kit.kb.store import KnowledgeBase

FORMATS = ("jsonl", "txt", "aida", "pubtator")
T = TypeVar("T")


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir() or name.endswith(".txt") and "corpus" not in name:
        return "txt"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".tsv") or "aida" in name:
        return "aida"
    return "pubtator"


def load_documents(
    path: Path, kb: KnowledgeBase | None = None, fmt: str | None = None, split: str | None = None
) -> DocumentSet:
    """Read documents of any supported format, resolving gold labels against ``kb``."""
    from entqa_kit.documents.aida import read_aida
    from entqa_kit.documents.jsonl_docs import read_jsonl_documents
    from entqa_kit.documents.pubtator import read_pubtator
    from entqa_kit.documents.txt_dir import read_txt_documents

    fmt = fmt or detect_format(path)
    if fmt == "aida":
        return read_aida(path, kb, split)
    if fmt == "pubtator":
        return read_pubtator(path, kb)
    if fmt == "jsonl":
        return read_jsonl_documents(path, kb)
    if fmt == "txt":
        return read_txt_documents(path)
    raise EntQAError("E054", path=path, fmt=fmt, known=", ".join(FORMATS))


def load_training_documents(data: DataConfig, kb: KnowledgeBase) -> DocumentSet:
    """A recipe's training documents (the first ``data.train_docs`` of them when set)."""
    return load_documents(Path(data.train), kb, data.format, data.train_split).first(data.train_docs)


def subsample(items: list[T], limit: int | None, seed: int) -> list[T]:
    """At most ``limit`` of ``items``, drawn without replacement by ``seed``, in their original order."""
    if not limit or len(items) <= limit:
        return items
    picked = np.random.default_rng(seed).choice(len(items), limit, replace=False)
    return [items[i] for i in sorted(picked)]
