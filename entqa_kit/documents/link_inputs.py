"""Documents to link from files, directories and stdin; bad documents become failures, not crashes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document

DEFAULT_MAX_CHARS = 1_000_000
"""Documents longer than this are refused (about 250k wordpieces, ~16k passages)."""


@dataclass(frozen=True)
class InputFailure:
    error: EntQAError


def _check(document: Document, source: str, max_chars: int) -> Document | InputFailure:
    if not document.text.strip():
        return InputFailure(EntQAError("E061", source=source, doc_id=document.id))
    if len(document.text) > max_chars:
        return InputFailure(
            EntQAError("E062", source=source, doc_id=document.id, chars=len(document.text), limit=max_chars)
        )
    return document


def _from_jsonl_lines(
    lines: Iterator[bytes], source: str, max_chars: int
) -> Iterator[Document | InputFailure]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield InputFailure(EntQAError("E003", path=source, line=number, detail=f"byte {exc.start}"))
            continue
        except json.JSONDecodeError as exc:
            yield InputFailure(EntQAError("E004", path=source, line=number, detail=exc.msg))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            yield InputFailure(EntQAError("E050", path=source, line=number, field="text"))
            continue
        yield _check(Document(id=str(obj.get("id", where)), text=obj["text"]), where, max_chars)


def _from_text(data: bytes, doc_id: str, source: str, max_chars: int) -> Document | InputFailure:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return InputFailure(EntQAError("E003", path=source, line=line, detail=f"byte {exc.start}"))
    return _check(Document(id=doc_id, text=text), source, max_chars)


def iter_inputs(paths: list[str], max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[Document | InputFailure]:
    """Documents from ``.txt`` files (one each), ``.jsonl`` files (one per line), directories of
    both, or ``-`` (stdin: JSONL when it starts with ``{``, else one text document)."""
    for given in paths:
        if given == "-":
            data = sys.stdin.buffer.read()
            if data.lstrip().startswith(b"{"):
                yield from _from_jsonl_lines(iter(data.splitlines()), "<stdin>", max_chars)
            else:
                yield _from_text(data, "stdin", "<stdin>", max_chars)
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl") and p.is_file())
            roots = [(f, str(f.relative_to(path))) for f in files]
        elif path.is_file():
            roots = [(path, path.name)]
        else:
            raise EntQAError("E001", path=path)
        for file, doc_id in roots:
            if file.suffix == ".jsonl":
                with file.open("rb") as handle:
                    yield from _from_jsonl_lines(iter(handle), str(file), max_chars)
            else:
                yield _from_text(file.read_bytes(), doc_id, str(file), max_chars)
