"""Checks on the paths a user names: inputs that must be readable files, outputs of the right kind.

Each failure is a coded :class:`~entqa_kit.core.errors.EntQAError` naming the path, never an
``OSError`` traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from entqa_kit.core.errors import EntQAError


def input_problem(path: Path, what: str = "input") -> EntQAError | None:
    """Why ``path`` cannot be read as a file (missing, a broken link, a directory), or None."""
    if path.is_symlink() and not path.exists():
        return EntQAError("E078", path=path, target=os.readlink(path))
    if path.is_dir():
        return EntQAError("E017", path=path) if what == "KB" else EntQAError("E079", path=path, what=what)
    if not path.is_file():
        return EntQAError("E001", path=path)
    return None


def require_file(path: Path, what: str = "input") -> Path:
    """``path`` when it is an existing file; else E001 (missing), E078 (broken link) or
    E017/E079 (a directory; ``what`` names the file in the message, e.g. "KB" or "predictions")."""
    problem = input_problem(path, what)
    if problem is not None:
        raise problem
    return path


def unreadable(path: Path, exc: OSError) -> EntQAError:
    """E080 for an ``OSError`` raised while reading ``path`` (permissions, I/O errors)."""
    return EntQAError("E080", path=path, detail=exc.strerror or type(exc).__name__)


def open_binary(path: Path) -> BinaryIO:
    """``path`` opened for reading bytes; an OS error (e.g. no permission) is E080."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise unreadable(path, exc) from None


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``; an OS error (e.g. no permission) is E080."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc) from None


def check_out_dir(path: Path, option: str = "--out") -> Path:
    """``path`` when it can be a directory to write: absent or a directory (E072 when it is a file,
    or when a file stands where one of its parent directories should be)."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                raise EntQAError("E072", path=candidate, option=option)
            break
    return path


def check_out_file(path: Path, option: str = "--out") -> Path:
    """``path`` when it can be a file to write: absent or a file (E073 when it is a directory;
    E072 when a file stands where one of its parent directories should be)."""
    if path.is_dir():
        raise EntQAError("E073", path=path, option=option)
    check_out_dir(path.parent, option)
    return path
