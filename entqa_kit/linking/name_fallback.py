"""The name fallback: KB-name matches fill the places where the reader linked nothing.

With ``link.name_fallback``, every match of the KB's names and aliases (the matcher of
``entqa-kit silver``) that no linked span overlaps is linked to the matched entity. The reader's
spans always win; the matcher only adds recall where the reader is silent. Measured on NCBI-disease
dev against MEDIC (``benchmarks/RESULTS.md``, "Name fallback").
"""

from __future__ import annotations

from collections.abc import Sequence

from entqa_kit.kb.name_matcher import NameMatch
from entqa_kit.reading.spans import ScoredSpan


def fill_with_names(
    spans: Sequence[ScoredSpan], matches: Sequence[NameMatch], score: float
) -> list[ScoredSpan]:
    """``spans`` plus each match that overlaps none of them, scored ``score``; sorted by position."""
    taken = sorted((s.start, s.end) for s in spans)
    added = [
        ScoredSpan(m.start, m.end, m.entity_id, score)
        for m in matches
        if all(m.end <= start or end <= m.start for start, end in taken)
    ]
    return sorted([*spans, *added], key=lambda s: (s.start, s.end, -s.score))
