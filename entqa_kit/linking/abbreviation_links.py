"""Abbreviations carry their long form's link: after "familial adenomatous polyposis (FAP)" is linked,
every later "FAP" of the document is linked to the same entity where nothing else is linked.

``link.abbreviations`` turns it on. The definitions are found with Schwartz & Hearst's algorithm
(:mod:`entqa_kit.documents.abbreviations`); a long form counts as linked when one linked span covers at
least half of it (the span covering most wins). Linked spans are never replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

from entqa_kit.documents.abbreviations import short_form_uses
from entqa_kit.reading.spans import ScoredSpan


def link_abbreviations(text: str, spans: Sequence[ScoredSpan]) -> list[ScoredSpan]:
    """``spans`` plus each use of a defined short form whose long form is linked, with its entity and
    score; sorted by position."""
    uses = short_form_uses(text, [(s.start, s.end, s.score) for s in spans])
    kept = [*spans, *(ScoredSpan(start, end, spans[i].entity, spans[i].score) for start, end, i in uses)]
    return sorted(kept, key=lambda s: (s.start, s.end, -s.score))
