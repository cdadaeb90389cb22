"""The AIDA-YAGO2 tsv (CoNLL tokens, one per line), with a split filter.

Tokens are joined with single spaces; a blank line (sentence break) becomes a
newline. Gold Wikipedia titles resolve to KB ids through the entity store's
title lookup; ``--NME--`` and titles missing from the KB are kept out-of-KB.
"""

from __future__ import annotations

import re
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document, Mention
from entqa_kit.documents.base import DocumentSet
from entqa_kit.io.text_lines import iter_text_lines
from entqa_kit.kb.store import KnowledgeBase

SPLITS = ("train", "testa", "testb")
_DOCSTART = re.compile(r"-DOCSTART- \((\d+)(testa|testb)?\s*(.*)\)")
NIL = "--NME--"


def aida_split(doc_id: str) -> str:
    match = re.match(r"\d+(testa|testb)", doc_id)
    return match.group(1) if match else "train"


class _DocumentBuilder:
    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id
        self.parts: list[str] = []
        self.length = 0
        self.mentions: list[tuple[int, int, str]] = []
        self.open_mention: list | None = None
        self.pending_newline = False

    def token(self, token: str) -> tuple[int, int]:
        if self.parts:
            separator = "\n" if self.pending_newline else " "
            self.parts.append(separator)
            self.length += 1
        self.pending_newline = False
        start = self.length
        self.parts.append(token)
        self.length += len(token)
        return start, self.length

    def document(self, kb: KnowledgeBase | None) -> Document:
        mentions = []
        for start, end, label in self.mentions:
            entities: tuple[str, ...] = ()
            if label != NIL and kb is not None:
                rows = kb.rows_by_title(label)
                entities = (kb.by_row(rows[0]).id,) if rows else ()
            elif label != NIL:
                entities = (label,)
            mentions.append(Mention(start=start, end=end, entities=entities, label=label))
        return Document(id=self.doc_id, text="".join(self.parts), mentions=tuple(mentions))


def read_aida(path: Path, kb: KnowledgeBase | None = None, split: str | None = None) -> DocumentSet:
    """Documents of ``split`` (train, testa, testb, or all when None)."""
    lines = iter_text_lines(path, "document")
    result = DocumentSet()
    builder: _DocumentBuilder | None = None

    def flush() -> None:
        if builder is not None and (split is None or aida_split(builder.doc_id) == split):
            result.add(builder.document(kb))

    for number, raw in lines:
        line = raw.rstrip("\r\n")
        if line.startswith("-DOCSTART-"):
            flush()
            match = _DOCSTART.match(line)
            if not match:
                raise EntQAError("E052", path=path, line=number, detail="malformed -DOCSTART-")
            builder = _DocumentBuilder(f"{match.group(1)}{match.group(2) or ''} {match.group(3)}".strip())
            continue
        if builder is None:
            raise EntQAError("E052", path=path, line=number, detail="text before the first -DOCSTART-")
        if not line.strip():
            builder.pending_newline = True
            continue
        _token_line(path, number, line, builder)
    flush()
    if not result.documents:
        raise EntQAError("E055", path=path, detail=f" for split {split!r}" if split else "")
    return result


def _token_line(path: Path, number: int, line: str, builder: _DocumentBuilder) -> None:
    columns = line.split("\t")
    start, end = builder.token(columns[0])
    if len(columns) == 1:
        builder.open_mention = None
        return
    if len(columns) < 4 or columns[1] not in ("B", "I"):
        raise EntQAError("E052", path=path, line=number, detail=f"{len(columns)} columns")
    label = columns[3]
    if columns[1] == "B" or builder.open_mention is None:
        builder.open_mention = [start, end, label]
        builder.mentions.append(tuple(builder.open_mention))
    else:
        builder.open_mention[1] = end
        builder.mentions[-1] = tuple(builder.open_mention)
