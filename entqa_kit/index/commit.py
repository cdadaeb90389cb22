"""All-or-nothing changes to an index directory, however the process stops.

An update writes every file it changes as ``<name>.next`` (vectors are only appended past the
count the manifest gives, which readers never look at), then commits: it writes the journal
``update.json`` (atomically) naming the files to put in place, renames them (the manifest last)
and removes the journal. Killed before the journal exists, the index is as it was (the staged files
and the vector tail are discarded by the next update); killed after, whoever opens the index next
finishes the renames. Two lock files keep processes apart (POSIX ``flock``): ``.update.lock`` lets
one update run at a time, ``.commit.lock`` keeps readers from opening files while a commit renames
them (held for the renames only, never while an update encodes).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.errors import EntQAError

JOURNAL = "update.json"
UPDATE_LOCK = ".update.lock"
COMMIT_LOCK = ".commit.lock"
STAGED = ".next"

try:
    import fcntl
except ImportError:  # pragma: no cover - no POSIX locks (Windows): one process at a time is up to the user
    fcntl = None  # type: ignore[assignment]


def staged(path: Path) -> Path:
    """Where an update writes the next version of ``path``."""
    return path.with_name(path.name + STAGED)


@contextlib.contextmanager
def _locked(path: Path, exclusive: bool, wait: bool = True) -> Iterator[bool]:
    """Hold a lock on ``path``; yields False when it cannot be held (no lock support, or no lock
    file: a reader does not create one, so an index never updated is opened without side effects)
    and, with ``wait=False``, raises BlockingIOError if taken."""
    if fcntl is None:
        yield False
        return
    try:
        handle = path.open("a" if exclusive else "r")
    except OSError:
        yield False
        return
    with handle:
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
        fcntl.flock(handle.fileno(), flags)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _finish(directory: Path) -> None:
    """Put in place what a committed update's journal names (idempotent), then drop the journal."""
    journal = directory / JOURNAL
    try:
        plan = json.loads(journal.read_bytes())
    except FileNotFoundError:
        return
    except (OSError, ValueError):  # a journal is written atomically, so a broken one was never committed
        journal.unlink(missing_ok=True)
        return
    for name in plan.get("delete", []):
        (directory / name).unlink(missing_ok=True)
    for name in plan.get("replace", []):
        source = staged(directory / name)
        if source.exists():
            source.replace(directory / name)
    journal.unlink(missing_ok=True)


@contextlib.contextmanager
def reading(directory: Path) -> Iterator[None]:
    """Open an index's files inside this: no commit renames them meanwhile, and an update that
    was committed but not finished (its process was killed) is finished first."""
    if (directory / JOURNAL).is_file():
        with _locked(directory / COMMIT_LOCK, exclusive=True):
            _finish(directory)
    with _locked(directory / COMMIT_LOCK, exclusive=False):
        yield


def discard_staged(directory: Path) -> None:
    """Finish a committed update, and remove what an uncommitted one left behind."""
    with _locked(directory / COMMIT_LOCK, exclusive=True):
        _finish(directory)
    for leftover in directory.glob("*" + STAGED):
        leftover.unlink(missing_ok=True)


class Update:
    """One change of an index: stage files, then :meth:`commit`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.replace: list[str] = []
        self.delete: list[str] = []

    def stage(self, name: str) -> Path:
        """The path to write the next version of ``name`` to; it is put in place on commit."""
        if name not in self.replace:
            self.replace.append(name)
        return staged(self.directory / name)

    def remove(self, name: str) -> None:
        """Delete ``name`` on commit."""
        self.delete.append(name)

    def commit(self, manifest_name: str) -> None:
        """The point of no return: the journal, then the renames (the manifest last)."""
        order = [n for n in self.replace if n != manifest_name] + [manifest_name]
        with _locked(self.directory / COMMIT_LOCK, exclusive=True):
            write_json_atomic(self.directory / JOURNAL, {"replace": order, "delete": self.delete})
            _finish(self.directory)


@contextlib.contextmanager
def updating(directory: Path) -> Iterator[Update]:
    """The one update of ``directory`` (E152 while another process changes it). Leftovers of an
    update killed earlier are finished or discarded first; staged files are removed if this one
    stops before it commits."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_locked(directory / UPDATE_LOCK, exclusive=True, wait=False))
        except BlockingIOError:
            raise EntQAError("E152", path=directory) from None
        try:
            (directory / COMMIT_LOCK).touch()  # from now on readers take it
        except OSError as exc:
            raise EntQAError("E156", path=directory, detail=exc.strerror or type(exc).__name__) from None
        discard_staged(directory)
        update = Update(directory)
        try:
            yield update
        finally:
            if not (directory / JOURNAL).exists():
                for name in update.replace:
                    staged(directory / name).unlink(missing_ok=True)
