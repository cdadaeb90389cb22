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
    if not stderr_console.is_terminal:  # a log file: plain lines every 5% (or minute), with an ETA
        with _plain_progress(description, total, done) as advance:
            yield advance
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
            progress.update(task, rate=rate_text(speed))
            if note is not None:
                progress.update(task, note=note)

        yield advance


def rate_text(speed: float | None) -> str:
    """``"1,234/s"``, or two significant digits under 10 per second (``"0.45/s"``, never ``"0/s"``)."""
    if not speed:
        return ""
    return f"{speed:,.0f}/s" if speed >= 10 else f"{speed:.2g}/s"


@contextmanager
def _plain_progress(description: str, total: int, done: int = 0) -> Iterator[Callable[[int], None]]:
    import sys
    import time

    started, last = time.monotonic(), 0.0
    count, start_count = done, done
    state = {"note": ""}

    def line(final: bool = False) -> None:
        elapsed = time.monotonic() - started
        rate = (count - start_count) / elapsed if elapsed > 0 else 0.0
        eta = (total - count) / rate if rate > 0 and total else float("nan")
        tail = "done" if final else f"eta {eta / 60:.1f} min" if total else "running"
        note = f" {state['note']}" if state["note"] else ""
        of_total = f"/{total:,}" if total else ""
        print(
            f"{description}: {count:,}{of_total} ({rate:,.1f}/s){note} {elapsed / 60:.1f} min, {tail}",
            file=sys.stderr,
            flush=True,
        )

    def advance(n: int, note: str | None = None) -> None:
        nonlocal count, last
        count += n
        if note is not None:
            state["note"] = note
        now = time.monotonic()
        step = max(1, total // 20) if total else 0  # unknown total: a line a minute
        if (step and (count // step) != ((count - n) // step)) or now - last > 60:
            last = now
            line()

    yield advance
    line(final=True)
