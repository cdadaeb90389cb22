"""Documents to link from files, directories and stdin; bad documents become failures, not crashes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import input_problem, open_binary, read_bytes
from entqa_kit.core.records import Document
from entqa_kit.io.jsonl import BOM, unencodable
from entqa_kit.io.text_lines import decode_text

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
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
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
        problem = unencodable(obj)
        if problem is not None:
            yield InputFailure(EntQAError("E070", path=source, line=number, detail=problem))
            continue
        yield _check(Document(id=str(obj.get("id", where)), text=obj["text"]), where, max_chars)


def _from_text(data: bytes, doc_id: str, source: str, max_chars: int) -> Document | InputFailure:
    try:
        text = decode_text(data, source)
    except EntQAError as error:
        return InputFailure(error)
    return _check(Document(id=doc_id, text=text), source, max_chars)


def _from_file(file: Path, doc_id: str, max_chars: int) -> Iterator[Document | InputFailure]:
    """The documents of one input file; a broken link or an unreadable file is one failure."""
    problem = input_problem(file)
    if problem is not None:
        yield InputFailure(problem)
        return
    try:
        if file.suffix == ".jsonl":
            with open_binary(file) as handle:
                yield from _from_jsonl_lines(iter(handle), str(file), max_chars)
        elif (fmt := _corpus_format(file)) is not None:
            yield from _from_corpus(file, fmt, max_chars)
        else:
            yield _from_text(read_bytes(file), doc_id, str(file), max_chars)
    except EntQAError as error:
        yield InputFailure(error)


def _corpus_format(file: Path) -> str | None:
    """``pubtator`` or ``aida`` for a corpus file (by its content, whatever its name), else None."""
    from entqa_kit.documents.sniff import sniff_format

    fmt = sniff_format(file)
    return fmt if fmt in ("pubtator", "aida") else None


def _from_corpus(file: Path, fmt: str, max_chars: int) -> Iterator[Document | InputFailure]:
    """The texts of a PubTator or AIDA file, one document each (their gold mentions are not used)."""
    from entqa_kit.documents import load_documents

    for document in load_documents(file, None, fmt).documents:
        yield _check(Document(id=document.id, text=document.text), f"{file}", max_chars)


def check_inputs(paths: list[str]) -> None:
    """E001 for the first input path that does not exist (``-`` is stdin), before any model loads."""
    for given in paths:
        if given != "-" and not Path(given).exists():
            raise input_problem(Path(given)) or EntQAError("E001", path=given)  # E078 for a broken link


def iter_inputs(paths: list[str], max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[Document | InputFailure]:
    """Documents from ``.txt`` files (one each), ``.jsonl`` files (one per line), directories of
    both, or ``-`` (stdin: JSONL when it starts with ``{``, else one text document). A PubTator or
    AIDA file, told by its content, gives one document per abstract or article."""
    for given in paths:
        if given == "-":
            data = sys.stdin.buffer.read()
            if data.startswith(BOM):
                data = data[len(BOM) :]
            if data.lstrip().startswith(b"{"):
                yield from _from_jsonl_lines(iter(data.splitlines()), "<stdin>", max_chars)
            else:
                yield _from_text(data, "stdin", "<stdin>", max_chars)
            continue
        path = Path(given)
        if path.is_dir():
            # broken links are listed too (is_file() is false for them): each is reported as a failure
            files = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".txt", ".jsonl") and (p.is_file() or (p.is_symlink() and not p.exists()))
            )
            roots = [(f, str(f.relative_to(path))) for f in files]
        elif path.is_file() or path.is_symlink():
            roots = [(path, path.name)]
        else:
            raise EntQAError("E001", path=path)
        for file, doc_id in roots:
            yield from _from_file(file, doc_id, max_chars)
