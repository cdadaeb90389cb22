"""Write documents with their gold mentions as Document JSONL (one mention line per KB id)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from entqa_kit.core.atomic import write_text_atomic
from entqa_kit.core.records import Document


def document_line(document: Document) -> str:
    """``{"id", "text", "mentions": [{"start", "end", "entity"}]}``; a composite mention (several KB
    ids) becomes one mention per id on the same span; out-of-KB mentions are left out."""
    mentions = [
        {"start": m.start, "end": m.end, "entity": entity} for m in document.mentions for entity in m.entities
    ]
    return json.dumps({"id": document.id, "text": document.text, "mentions": mentions}, ensure_ascii=False)


def write_documents(documents: Sequence[Document], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "".join(document_line(d) + "\n" for d in documents))
    return path
