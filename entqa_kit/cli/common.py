"""Shared CLI pieces: option types, error handling, output helpers."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from entqa_kit.core.errors import EntQAError

F = TypeVar("F", bound=Callable[..., Any])

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summaries on stderr.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
OutOfKbOption = Annotated[
    str,
    typer.Option(
        "--out-of-kb",
        help="ignore: links on gold mentions whose entity is not in the KB are not counted (GERBIL "
        "InKB); wrong: they are false positives (what a user of a narrow KB sees).",
    ),
]
RAY_PANEL = "Ray (scaling out; needs the 'distributed' extra)"
RayFlag = Annotated[
    bool,
    typer.Option(
        "--ray", help="Run on a Ray cluster (a local one unless --ray-address).", rich_help_panel=RAY_PANEL
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        help="Join this Ray cluster (host:6379, ray://host:10001, auto; default $RAY_ADDRESS); implies --ray",
        rich_help_panel=RAY_PANEL,
    ),
]
RayWorkers = Annotated[
    int, typer.Option(min=1, help="Ray workers (each loads the model once).", rich_help_panel=RAY_PANEL)
]
RayCpus = Annotated[
    float, typer.Option(min=0.1, help="CPUs per Ray worker (its torch threads).", rich_help_panel=RAY_PANEL)
]
Device = Annotated[
    str,
    typer.Option(help="auto, cpu or cuda: where torch runs (auto: cuda when torch sees a GPU)."),
]


SKIP_HINT = " or pass --skip-bad"


def error_message(error: EntQAError, skip_bad_option: bool = False) -> str:
    """``[Exxx] ...``; the hint "or pass --skip-bad" only for a command that has that option."""
    return error.message if skip_bad_option else error.message.replace(SKIP_HINT, "")


def error_line(error: EntQAError, skip_bad_option: bool = False) -> str:
    """``error: [Exxx] ...`` (see :func:`error_message`)."""
    return f"error: {error_message(error, skip_bad_option)}"


def user_errors(func: F) -> F:
    """Turn an EntQAError into one ``error: [Exxx] ...`` line on stderr and exit code 1."""
    skip_bad_option = "skip_bad" in inspect.signature(func).parameters

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EntQAError as error:
            typer.echo(error_line(error, skip_bad_option), err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")


def check_outputs(
    files: dict[str, Path | None] | None = None, dirs: dict[str, Path | None] | None = None
) -> None:
    """Before any work: E073 when an output file option names a directory, E072 when an output
    directory option (or a parent of either) names a file. Keys are the option names."""
    from entqa_kit.core.paths import check_out_dir, check_out_file

    for option, path in (files or {}).items():
        if path is not None:
            check_out_file(Path(path), option)
    for option, path in (dirs or {}).items():
        if path is not None:
            check_out_dir(Path(path), option)
