"""Name-anchored reader spans: where a KB name confirms a mention, the reader's extent of it is linked.

With ``link.name_fallback`` on and ``link.name_anchor_floor = f``, a reader span scored above ``f`` but
not above γ is linked when it strictly contains a KB-name match and overlaps no span above γ: the name
says a mention is there, the reader says how far it reaches and which entity it is ("renal
hamartomas" where the KB names only "hamartomas"). It is linked at score γ, like a name of the
fallback, which then fills in the matches left uncovered. Measured on NCBI-disease dev against MEDIC
(``benchmarks/RESULTS.md``, "Name-anchored spans").
"""

from __future__ import annotations

from collections.abc import Sequence

from entqa_kit.kb.name_matcher import NameMatch
from entqa_kit.reading.spans import ScoredSpan


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def anchored_spans(
    kept: Sequence[ScoredSpan],
    spans: Sequence[ScoredSpan],
    matches: Sequence[NameMatch],
    threshold: float,
    floor: float,
) -> list[ScoredSpan]:
    """``kept`` (the spans above ``threshold``) plus, best score first, each span of ``spans`` scored in
    (``floor``, ``threshold``] that strictly contains a match and overlaps no span taken before it;
    sorted by position."""
    taken = list(kept)
    below = sorted((s for s in spans if floor < s.score <= threshold), key=lambda s: -s.score)
    for span in below:
        if any(_overlap(span.start, span.end, t.start, t.end) for t in taken):
            continue
        width = span.end - span.start
        if any(span.start <= m.start and m.end <= span.end and m.end - m.start < width for m in matches):
            taken.append(ScoredSpan(span.start, span.end, span.entity, threshold))
    return sorted(taken, key=lambda s: (s.start, s.end, -s.score))
