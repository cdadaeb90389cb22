"""Line-exact JSON-lines reading: every bad line reported with its number."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.errors import EntQAError
from entqa_kit.io.bad_rows import BadRowLog


def iter_json_objects(path: Path, bad: BadRowLog) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line, 1-based.

    Undecodable bytes, malformed JSON, a truncated last line and non-object
    values are reported to ``bad`` with their line number.
    """
    if not path.is_file():
        raise EntQAError("E001", path=path)
    seen_any = False
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
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
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict):
                found.append(value)
                if len(found) == wanted:
                    break
    return found
