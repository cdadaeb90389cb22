"""Silver mentions of abbreviations: after "familial adenomatous polyposis (FAP)" is matched, every
"FAP" of the document from the definition on is a silver mention of the same entity.

The KB rarely lists a text's own short forms, so without this the reader is taught "no mention" on
every one of them (on NCBI-disease train, the most frequent gold mentions the name matcher misses are
short forms: FAP, A-T, AMN, VWS, BMD). Definitions are found and carried as ``link.abbreviations``
carries links (:func:`entqa_kit.documents.abbreviations.short_form_uses`).
"""

from __future__ import annotations

from collections.abc import Sequence

from entqa_kit.documents.abbreviations import short_form_uses
from entqa_kit.kb.name_matcher import NameMatch


def with_abbreviations(text: str, matches: Sequence[NameMatch]) -> list[NameMatch]:
    """``matches`` plus a match for each use of a short form whose long form is matched, in text order."""
    uses = short_form_uses(text, [(m.start, m.end, 1.0) for m in matches])
    added = [
        NameMatch(start, end, matches[i].entity_id, text[start:end], matches[i].row) for start, end, i in uses
    ]
    return sorted([*matches, *added], key=lambda m: (m.start, m.end))
