"""Progress bars on stderr (rich) that become no-ops when quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

stderr_console = Console(stderr=True)


@contextmanager
def progress_bar(
    description: str, total: int, quiet: bool = False, done: int = 0
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n, note="")``; shows count, rate, a note (e.g. the loss) and ETA on stderr."""
    if quiet:
        yield lambda n, note=None: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr_console, transient=False) as progress:
        task = progress.add_task(description, total=total, completed=done, rate="", note="")

        def advance(n: int, note: str | None = None) -> None:
            progress.advance(task, n)
            speed = progress.tasks[task].speed
            progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")
            if note is not None:
                progress.update(task, note=note)

        yield advance
