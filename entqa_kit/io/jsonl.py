"""Line-exact JSON-lines reading: every bad line reported with its number."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import open_binary, require_file
from entqa_kit.io.bad_rows import BadRowLog

BOM = b"\xef\xbb\xbf"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only escapes like \ud800 can make a lone surrogate


def iter_json_objects(
    path: Path, bad: BadRowLog, what: str = "input"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line, 1-based.

    A leading UTF-8 byte-order mark is ignored. Undecodable bytes, malformed JSON, a truncated
    last line, non-object values and strings that are not valid Unicode (lone surrogates such
    as ``"\\ud800"``) are reported to ``bad`` with their line number.
    """
    require_file(path, what)
    seen_any = False
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            if not raw.strip():
                continue
            seen_any = True
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad.report(EntQAError("E003", path=path, line=number, detail=f"byte {exc.start}"))
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                code = "E005" if not raw.endswith(b"\n") else "E004"
                bad.report(EntQAError(code, path=path, line=number, detail=exc.msg))
                continue
            if not isinstance(value, dict):
                bad.report(EntQAError("E009", path=path, line=number, kind=type(value).__name__))
                continue
            problem = unencodable(value) if _SURROGATE_ESCAPE.search(text) else None
            if problem is not None:
                bad.report(EntQAError("E070", path=path, line=number, detail=problem))
                continue
            yield number, value
    if not seen_any:
        raise EntQAError("E002", path=path)


def first_json_objects(path: Path, max_lines: int = 50, wanted: int = 5) -> list[dict[str, Any]]:
    """Up to ``wanted`` parseable objects among the first lines of a JSONL file, for sniffing."""
    found: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            if number >= max_lines:
                break
            if number == 0 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict):
                found.append(value)
                if len(found) == wanted:
                    break
    return found


def unencodable(obj: dict[str, Any]) -> str | None:
    """Which field of a parsed JSON object holds a string UTF-8 cannot encode (a lone surrogate
    such as ``"\\ud800"``, valid JSON but not text), or None."""
    for key, value in obj.items():
        char = _surrogate(key) or _surrogate(value)
        if char is not None:
            return f"lone surrogate \\u{ord(char):04x} in field {key!r}"
    return None


def _surrogate(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return value[exc.start]
        return None
    if isinstance(value, dict):
        return next((c for k, v in value.items() for c in (_surrogate(k), _surrogate(v)) if c), None)
    if isinstance(value, list):
        return next((c for v in value if (c := _surrogate(v))), None)
    return None
