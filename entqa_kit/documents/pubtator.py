"""PubTator: ``PMID|t|title``, ``PMID|a|abstract``, then ``PMID start end text type ids`` lines.

Title and abstract are joined with one space, as PubTator's offsets assume.
Ids are normalised against the KB: a bare MeSH id ``D012878`` becomes
``MESH:D012878``; composite ``A|B`` and combined ``A+B`` ids are split; an id is
found as a KB id or as an alt id.
"""

from __future__ import annotations

import re
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, Mention
from entqa_kit.documents.base import DocumentSet
from entqa_kit.io.text_lines import iter_text_lines
from entqa_kit.kb.store import KnowledgeBase

_BARE_MESH = re.compile(r"^[CD]\d+$")


def normalize_ids(raw: str) -> list[str]:
    """``" D001|OMIM:123+C05"`` -> ``["MESH:D001", "OMIM:123", "MESH:C05"]``."""
    ids = []
    for part in re.split(r"[|+,]", raw):
        part = part.strip()
        if part:
            ids.append(f"MESH:{part}" if _BARE_MESH.match(part) else part)
    return ids


def resolve_ids(raw: str, kb: KnowledgeBase | None) -> tuple[str, ...]:
    """KB ids for a PubTator id field; empty if any part is not in the KB."""
    resolved = []
    for entity_id in normalize_ids(raw):
        if kb is None:
            resolved.append(entity_id)
            continue
        if kb.row_of(entity_id) is not None:
            resolved.append(entity_id)
            continue
        rows = kb.rows_by_alt_id(entity_id)
        if not rows:
            return ()
        resolved.append(kb.by_row(rows[0]).id)
    return tuple(dict.fromkeys(resolved))


def read_pubtator(path: Path, kb: KnowledgeBase | None = None) -> DocumentSet:
    result = DocumentSet()
    pmid, title, abstract, mentions = None, "", "", []

    def flush() -> None:
        if pmid is not None:
            result.add(Document(id=pmid, text=f"{title} {abstract}", mentions=tuple(mentions)))

    for number, raw in iter_text_lines(path, "document"):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        head = re.match(r"^([^|\t]+)\|([ta])\|(.*)$", line)
        if head:
            if head.group(2) == "t":
                flush()
                pmid, title, abstract, mentions = head.group(1), head.group(3), "", []
            else:
                abstract = head.group(3)
            continue
        columns = line.split("\t")
        if len(columns) < 6 or pmid is None or columns[0] != pmid:
            raise EntQAError("E053", path=path, line=number, detail=f"{len(columns)} tab-separated columns")
        try:
            start, end = int(columns[1]), int(columns[2])
        except ValueError:
            raise EntQAError("E053", path=path, line=number, detail="offsets are not integers") from None
        label = columns[5].strip()
        length = len(title) + 1 + len(abstract)
        if not 0 <= start < end <= length:
            raise EntQAError("E051", path=path, line=number, start=start, end=end, length=length)
        mentions.append(Mention(start=start, end=end, entities=resolve_ids(label, kb), label=label))
    flush()
    if not result.documents:
        raise EntQAError("E055", path=path, detail="")
    return result
