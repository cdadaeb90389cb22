"""Read a recipe TOML, apply ``key.path=value`` overrides, validate with pydantic."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from entqa_kit.core.config import Recipe
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import read_bytes, require_file
from entqa_kit.io.text_lines import decode_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _parse_value(text: str) -> Any:
    """TOML/JSON-ish scalars: numbers, booleans, null, quoted or bare strings."""
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(values: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for override in overrides:
        if "=" not in override:
            raise EntQAError("E041", what="an override", expected="key.path=value", value=override)
        key, raw = override.split("=", 1)
        node = values
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise EntQAError(
                    "E041", what=f"override {key!r}", expected="a path to a config key", value=raw
                )
        node[leaf] = _parse_value(raw)
    return values


def load_recipe(path: Path, overrides: list[str] | None = None) -> Recipe:
    text = decode_text(read_bytes(require_file(path, "recipe")), path)  # E001/E079/E003, no traceback
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EntQAError("E040", detail=f"{path}: {exc}") from None
    values = apply_overrides(values, overrides or [])
    from pydantic import ValidationError

    try:
        return Recipe.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EntQAError("E040", detail=f"{path.name}: {where}: {first['msg']}") from None


def overridden(recipe: Recipe, overrides: list[str], label: str) -> Recipe:
    """``recipe`` with ``a.b=value`` overrides applied and validated; E040 names the bad key after
    ``label`` (the recipe's name, or the option the overrides came from)."""
    from pydantic import ValidationError

    try:
        return Recipe.model_validate(apply_overrides(recipe.model_dump(), overrides))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EntQAError("E040", detail=f"{label}{where}: {first['msg']}") from None
