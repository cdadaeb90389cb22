"""Shared CLI pieces: option types, error handling, output helpers."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from entqa_kit.core.errors import EntQAError

F = TypeVar("F", bound=Callable[..., Any])

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summaries on stderr.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def user_errors(func: F) -> F:
    """Turn an EntQAError into one ``error: [Exxx] ...`` line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EntQAError as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
