"""Abbreviations carry their long form's link: after "familial adenomatous polyposis (FAP)" is linked,
every later "FAP" of the document is linked to the same entity where nothing else is linked.

``link.abbreviations`` turns it on. The definitions are found with Schwartz & Hearst's algorithm
(:mod:`entqa_kit.documents.abbreviations`); a long form counts as linked when one linked span covers at
least half of it (the span covering most wins). Linked spans are never replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

from entqa_kit.documents.abbreviations import find_abbreviations, occurrences
from entqa_kit.reading.spans import ScoredSpan


def _overlap(span: ScoredSpan, start: int, end: int) -> int:
    return max(0, min(span.end, end) - max(span.start, start))


def link_abbreviations(text: str, spans: Sequence[ScoredSpan]) -> list[ScoredSpan]:
    """``spans`` plus each use of a defined short form whose long form is linked, with its entity and
    score; sorted by position."""
    kept = list(spans)
    taken = [(s.start, s.end) for s in kept]
    for abbreviation in find_abbreviations(text):
        long_start, long_end = abbreviation.long_start, abbreviation.long_end
        covering = [s for s in spans if 2 * _overlap(s, long_start, long_end) >= long_end - long_start]
        if not covering:
            continue
        source = max(covering, key=lambda s: (_overlap(s, long_start, long_end), s.score))
        for start, end in occurrences(text, abbreviation.short):
            if start < abbreviation.short_start or any(start < e and s < end for s, e in taken):
                continue
            kept.append(ScoredSpan(start, end, source.entity, source.score))
            taken.append((start, end))
    return sorted(kept, key=lambda s: (s.start, s.end, -s.score))
