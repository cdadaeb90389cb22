"""Document JSONL: ``{"id", "text", "mentions": [{"start", "end", "entity"}]?}``."""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, Mention
from entqa_kit.documents.base import DocumentSet
from entqa_kit.io.bad_rows import BadRowLog
from entqa_kit.io.jsonl import iter_json_objects
from entqa_kit.kb.store import KnowledgeBase


def read_jsonl_documents(path: Path, kb: KnowledgeBase | None = None, skip_bad: bool = False) -> DocumentSet:
    """Read documents; a mention whose ``entity`` is not a KB id counts as out-of-KB."""
    bad = BadRowLog(skip_bad)
    result = DocumentSet()
    for line, obj in iter_json_objects(path, bad, "document"):
        try:
            result.add(_document(path, line, obj, kb))
        except EntQAError as error:
            bad.report(error)
    return result


def _document(path: Path, line: int, obj: dict, kb: KnowledgeBase | None) -> Document:
    text = obj.get("text")
    if not isinstance(text, str):
        raise EntQAError("E050", path=path, line=line, field="text")
    doc_id = str(obj.get("id", f"{path.name}:{line}"))
    mentions = []
    listed = obj.get("mentions") or []
    if not isinstance(listed, list) or not all(isinstance(m, dict) for m in listed):
        kind = type(listed).__name__ if not isinstance(listed, list) else "a list with non-objects"
        raise EntQAError(
            "E010", path=path, line=line, field="mentions", expected="a list of objects", kind=kind
        )
    for raw in listed:
        start, end, label = raw.get("start"), raw.get("end"), str(raw.get("entity", ""))
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise EntQAError("E051", path=path, line=line, start=start, end=end, length=len(text))
        known = kb is None or kb.row_of(label) is not None
        mentions.append(
            Mention(start=start, end=end, entities=(label,) if label and known else (), label=label)
        )
    return Document(id=doc_id, text=text, mentions=tuple(mentions))
