"""Write a :class:`~entqa_kit.core.config.Recipe` as TOML that ``entqa-kit train --recipe`` reads back."""

from __future__ import annotations

import json
from pathlib import Path

from entqa_kit.core.atomic import write_text_atomic
from entqa_kit.core.config import Recipe


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def _table(name: str, values: dict, header: str) -> list[str]:
    """``[name]`` with its scalar keys (None left out), then its sub-tables."""
    lines = [f"[{name}]"] if name else []
    if header:
        lines = [f"# {line}" for line in header.splitlines()] + lines
    tables = {k: v for k, v in values.items() if isinstance(v, dict)}
    lines += [f"{k} = {_value(v)}" for k, v in values.items() if v is not None and k not in tables]
    for key, sub in tables.items():
        lines += ["", *_table(f"{name}.{key}" if name else key, sub, "")]
    return lines


def recipe_toml(recipe: Recipe, header: str = "") -> str:
    """The whole recipe, every key explicit, so the file reproduces the run whatever the defaults become."""
    lines = _table("", recipe.model_dump(mode="json"), header)
    return "\n".join(lines) + "\n"


def write_recipe(recipe: Recipe, path: Path, header: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, recipe_toml(recipe, header))
    return path
