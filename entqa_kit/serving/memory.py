"""Give freed heap memory back to the OS between batches (glibc ``malloc_trim``).

A long-running server links batches of varied sizes from one worker thread; glibc keeps the freed
pages of each batch's tensors and strings in its arenas, so the resident size creeps up request after
request although nothing is kept. ``malloc_trim(0)`` after each batch returns them. Elsewhere (musl,
macOS, Windows) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Trim the C heap; whether the platform could (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
