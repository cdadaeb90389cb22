"""Tell a document file's format from its first lines, not its name.

PubTator has ``PMID|t|title`` / ``PMID|a|abstract`` lines, the AIDA-YAGO2 tsv starts with
``-DOCSTART-``, and document JSONL lines are JSON objects with a ``"text"`` string. Anything else
is plain text (one document per file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_PUBTATOR_HEAD = re.compile(r"^[^|\t]+\|[ta]\|")
_SNIFF_LINES = 50
_SNIFF_BYTES = 1 << 20

FORMAT_NAMES = {
    "jsonl": "document JSONL",
    "txt": "plain text, one document per file",
    "aida": "AIDA-YAGO2 tsv",
    "pubtator": "PubTator",
}


def _first_lines(path: Path) -> list[str]:
    """Up to ``_SNIFF_LINES`` non-blank lines from the start of the file (a BOM is dropped)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[:_SNIFF_LINES]


def _is_document_object(line: str) -> bool:
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    return isinstance(obj, dict) and isinstance(obj.get("text"), str)


def sniff_format(path: Path) -> str | None:
    """``pubtator``, ``aida`` or ``jsonl`` when the content says so; None when it looks like none."""
    lines = _first_lines(path)
    if not lines:
        return None
    if lines[0].startswith("-DOCSTART-"):
        return "aida"
    if any(_PUBTATOR_HEAD.match(line) for line in lines):
        return "pubtator"
    if lines[0].lstrip().startswith("{") and _is_document_object(lines[0]):
        return "jsonl"
    return None
