"""Plain-text documents: a directory, a glob, or a single ``.txt`` file; one document per file."""

from __future__ import annotations

import glob
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import read_bytes, require_file
from entqa_kit.core.records import Document
from entqa_kit.documents.base import DocumentSet
from entqa_kit.io.text_lines import decode_text


def txt_files(path: Path) -> list[tuple[str, Path]]:
    """``(document id, file)`` pairs; the id is the path relative to the directory."""
    if path.is_dir():
        return [(str(p.relative_to(path)), p) for p in sorted(path.rglob("*.txt")) if not p.is_dir()]
    if path.is_file() or path.is_symlink():
        return [(path.name, path)]
    matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
    return [(str(p), p) for p in matches if p.is_file() or p.is_symlink() and not p.exists()]


def read_txt_documents(path: Path) -> DocumentSet:
    result = DocumentSet()
    for doc_id, file in txt_files(path):
        text = decode_text(read_bytes(require_file(file, "document")), file)
        result.add(Document(id=doc_id, text=text))
    if not result.documents:
        raise EntQAError("E055", path=path, detail=" (no .txt files)")
    return result


def text_line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
