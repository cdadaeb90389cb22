"""Document readers: JSONL, .txt files, AIDA-YAGO2 tsv, PubTator."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import numpy as np

from entqa_kit.core.config import DataConfig
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import require_file
from entqa_kit.documents.base import DocumentSet
from entqa_kit.kb.store import KnowledgeBase

FORMATS = ("jsonl", "txt", "aida", "pubtator")
T = TypeVar("T")


def detect_format(path: Path) -> str:
    """The format of a document file by its content (PubTator ``PMID|t|`` lines, AIDA's
    ``-DOCSTART-``, JSONL objects with ``"text"``); a directory or glob of ``.txt`` files is ``txt``.
    A file whose content matches none is JSONL by a ``.jsonl``/``.json`` name, else plain text."""
    from entqa_kit.documents.sniff import sniff_format

    if path.is_file():
        sniffed = sniff_format(path)
        if sniffed is not None:
            return sniffed
    if path.name.lower().endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    return "txt"


def require_gold(documents: DocumentSet, path: Path, fmt: str) -> DocumentSet:
    """``documents`` when some gold mention resolves to the KB; else a coded error saying what was read."""
    from entqa_kit.documents.sniff import FORMAT_NAMES

    count = len(documents.documents)
    read = f"{count:,} document{'' if count == 1 else 's'}"
    if documents.num_mentions == 0:
        raise EntQAError("E090", path=path, documents=read, fmt=FORMAT_NAMES.get(fmt, fmt))
    if documents.num_in_kb == 0:
        examples = ", ".join(repr(label) for label, _ in documents.unresolved_labels.most_common(3))
        raise EntQAError(
            "E091", path=path, documents=read, mentions=documents.num_mentions, examples=examples
        )
    return documents


def load_labelled_documents(
    path: Path, kb: KnowledgeBase, fmt: str | None = None, split: str | None = None
) -> DocumentSet:
    """Documents to score against: :func:`load_documents`, refused when no gold mention is in the KB."""
    fmt = fmt or document_format(path)
    return require_gold(load_documents(path, kb, fmt, split), path, fmt)


def document_format(path: Path) -> str:
    """:func:`detect_format`, after checking that ``path`` exists (a glob pattern may match later)."""
    if not path.exists() and not any(c in str(path) for c in "*?["):
        require_file(path, "document")  # raises E001, or E078 for a broken link
    return detect_format(path)


def load_documents(
    path: Path, kb: KnowledgeBase | None = None, fmt: str | None = None, split: str | None = None
) -> DocumentSet:
    """Read documents of any supported format, resolving gold labels against ``kb``."""
    from entqa_kit.documents.aida import read_aida
    from entqa_kit.documents.jsonl_docs import read_jsonl_documents
    from entqa_kit.documents.pubtator import read_pubtator
    from entqa_kit.documents.txt_dir import read_txt_documents

    fmt = fmt or document_format(path)
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
    """A recipe's training documents (the first ``data.train_docs`` of them when set), with the silver
    documents of ``data.unlabelled`` mixed in (see :mod:`entqa_kit.documents.unlabelled`)."""
    from entqa_kit.documents.unlabelled import training_documents

    return training_documents(data, kb)


def subsample(items: list[T], limit: int | None, seed: int) -> list[T]:
    """At most ``limit`` of ``items``, drawn without replacement by ``seed``, in their original order."""
    if not limit or len(items) <= limit:
        return items
    picked = np.random.default_rng(seed).choice(len(items), limit, replace=False)
    return [items[i] for i in sorted(picked)]
