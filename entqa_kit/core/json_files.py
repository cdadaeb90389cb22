"""Reading a typed JSON file (a config, a manifest, a state file) with coded errors, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from entqa_kit.core.errors import EntQAError, reason
from entqa_kit.core.paths import read_bytes

M = TypeVar("M", bound=BaseModel)


def read_json_model(model: type[M], path: Path, code: str, **fields: object) -> M:
    """``path`` parsed as ``model``; invalid JSON, an empty file or a failed validation is the
    coded error ``code`` (with ``path``, ``detail`` and ``fields``), an unreadable file E080."""
    data = read_bytes(path)
    try:
        return model.model_validate_json(data)
    except ValueError as exc:
        raise EntQAError(code, path=path, detail=reason(exc), **fields) from None
