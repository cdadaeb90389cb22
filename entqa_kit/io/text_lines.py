"""Line-by-line reading of a UTF-8 text file: a leading byte-order mark is dropped, and a line
that is not valid UTF-8 is a coded error naming the file and the line (never a traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import open_binary, require_file
from entqa_kit.io.jsonl import BOM


def iter_text_lines(path: Path, what: str = "input") -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` for every line of ``path`` (1-based, line endings kept)."""
    require_file(path, what)
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EntQAError("E003", path=path, line=number, detail=f"byte {exc.start}") from None


def decode_text(data: bytes, path: Path | str) -> str:
    """A whole file's bytes as text (a leading byte-order mark dropped); E003 names the bad line."""
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = data.count(b"\n", 0, offset) + 1
        raise EntQAError("E003", path=path, line=line, detail=f"byte {offset}") from None
