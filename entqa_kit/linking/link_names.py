"""The linker's KB-name matcher: the ``silver`` matcher with a link config's ``name_variants`` and
``name_exclude`` (and, with ``labelled_names``, the model's names learnt from labels), shared by name
candidates, the name fallback and the joint reader's training (which never has learnt names).

Matches are cached per text (the last ``CACHE_SIZE`` texts): a document is matched once whether its
passages take name candidates, the fallback fills it in, or calibration post-processes it at every γ.
"""

from __future__ import annotations

from functools import lru_cache

from entqa_kit.core.config import LinkConfig
from entqa_kit.core.records import Passage
from entqa_kit.kb.labelled_names import LabelledNames
from entqa_kit.kb.name_matcher import MatcherOptions, NameMatch, NameMatcher
from entqa_kit.kb.store import KnowledgeBase

CACHE_SIZE = 1024


class LinkNames:
    """KB names and aliases found in a text, as a link config asks."""

    def __init__(self, kb: KnowledgeBase, link: LinkConfig, learnt: LabelledNames | None = None) -> None:
        """``learnt``: names learnt from labelled documents (:mod:`entqa_kit.kb.labelled_names`)."""
        aliases = learnt.aliases if learnt else None
        self._matcher = NameMatcher.from_kb(kb, MatcherOptions(variants=link.name_variants), aliases)
        self._excluded = frozenset([*link.name_exclude, *(learnt.excluded if learnt else ())])
        self.find = lru_cache(maxsize=CACHE_SIZE)(self._find)

    def _find(self, text: str) -> tuple[NameMatch, ...]:
        return tuple(self._matcher.find(text, self._excluded))

    def in_passage(self, text: str, passage: Passage) -> list[NameMatch]:
        """The matches of ``text`` (the passage's document) that lie wholly inside ``passage``."""
        start, end = passage.char_start, passage.char_end
        return [m for m in self.find(text) if start <= m.start and m.end <= end]
