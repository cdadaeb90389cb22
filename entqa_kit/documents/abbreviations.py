"""Abbreviations defined in a document: "long form (SF)" pairs, after Schwartz & Hearst (PSB 2003).

"familial adenomatous polyposis (FAP)" defines FAP for the rest of the document. A short form is 2–10
characters in parentheses, at most two words, starting with a letter or digit and holding a letter;
its long form is the shortest run of words just before the parenthesis, at most
``min(len(SF) + 5, 2 * len(SF))`` words, whose characters contain the short form's letters and digits in
order, the first one starting a word. Offsets are Python ``str`` offsets into the text.

(The ``abbreviations`` package implements the same algorithm, but configures the root logger on
import and gives no offsets, so the few lines are written here.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_PARENTHESIS = re.compile(r"\(([^()]{2,10})\)")
_WORD = re.compile(r"\S+")
_CLAUSE_BREAK = re.compile(r"[.;:!?\[\]()]\s|[;:\[\]()]")


@dataclass(frozen=True)
class Abbreviation:
    """``text[short_start:short_end]``, defined by the long form ``text[long_start:long_end]``."""

    short: str
    short_start: int
    short_end: int
    long_start: int
    long_end: int


def _valid_short_form(short: str) -> bool:
    return (
        len(short.split()) <= 2
        and short[0].isalnum()
        and any(c.isalpha() for c in short)
        and not short.islower()  # "(see)", "(and)" are words, not abbreviations
    )


def _long_form_start(short: str, window: str) -> int | None:
    """Where in ``window`` the long form of ``short`` starts (Schwartz & Hearst's right-to-left match)."""
    s, w = len(short) - 1, len(window) - 1
    while s >= 0:
        char = short[s].lower()
        if not char.isalnum():
            s -= 1
            continue
        while w >= 0 and (window[w].lower() != char or (s == 0 and w > 0 and window[w - 1].isalnum())):
            w -= 1
        if w < 0:
            return None
        w -= 1
        s -= 1
    return window.rfind(" ", 0, w + 1) + 1


def find_abbreviations(text: str) -> list[Abbreviation]:
    """Every "long form (SF)" definition in ``text``, in order of appearance."""
    found = []
    for paren in _PARENTHESIS.finditer(text):
        short = paren.group(1).strip()
        if not short or not _valid_short_form(short):
            continue
        before = text[: paren.start()].rstrip()
        breaks = list(_CLAUSE_BREAK.finditer(before))
        clause_start = breaks[-1].end() if breaks else 0
        words = list(_WORD.finditer(before, clause_start))
        limit = min(len(short) + 5, 2 * len(short))
        words = words[-limit:]
        if not words:
            continue
        window_start = words[0].start()
        start = _long_form_start(short, before[window_start:])
        if start is None:
            continue
        long_start = window_start + start
        long_form = before[long_start:]
        if len(long_form) <= len(short) or short in long_form.split():
            continue
        short_start = paren.start(1) + paren.group(1).index(short)
        found.append(Abbreviation(short, short_start, short_start + len(short), long_start, len(before)))
    return found


def occurrences(text: str, short: str) -> list[tuple[int, int]]:
    """Character spans where ``short`` occurs as written, on word boundaries."""
    pattern = re.compile(r"(?<!\w)" + re.escape(short) + r"(?!\w)")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def short_form_uses(text: str, spans: Sequence[tuple[int, int, float]]) -> list[tuple[int, int, int]]:
    """``(start, end, source)`` for each use of a short form defined in ``text`` whose long form is
    covered by ``spans[source]`` (``(start, end, score)``): the span covering at least half of the long
    form, the one covering most (then the higher score) winning. A use overlapping any span, or an
    earlier use, is left out; so is a use before the definition."""
    found: list[tuple[int, int, int]] = []
    taken = [(start, end) for start, end, _ in spans]
    for abbreviation in find_abbreviations(text):
        long_start, long_end = abbreviation.long_start, abbreviation.long_end
        overlaps = [max(0, min(end, long_end) - max(start, long_start)) for start, end, _ in spans]
        covering = [i for i, size in enumerate(overlaps) if 2 * size >= long_end - long_start]
        if not covering:
            continue
        source = max(covering, key=lambda i: (overlaps[i], spans[i][2]))
        for start, end in occurrences(text, abbreviation.short):
            if start < abbreviation.short_start or any(start < e and s < end for s, e in taken):
                continue
            found.append((start, end, source))
            taken.append((start, end))
    return found
