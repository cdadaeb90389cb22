"""Find KB names (titles and aliases) in text: a multi-pattern Aho-Corasick matcher (pyahocorasick).

Matches fall on token boundaries only, and the leftmost-longest ones win with no overlaps. Names that
hold a lowercase letter match case-insensitively; acronyms and other all-caps names ("ALL", "AS",
"BRCA1") and short mixed-case names ("mRNA") match only as written. Offsets are Python ``str``
offsets into the text as given: lowercasing and whitespace folding are done character by character,
so an emoji or an accent before a match never shifts it.

A name shared by several entities goes to the entity whose title it is (``ambiguous="canonical"``),
is dropped (``"skip"``) or is kept for all of them (``"all"``: one match per entity on the span).
Filters, each counted in :attr:`NameMatcher.report`: names shorter than ``min_chars`` (acronyms of two
or more capitals excepted), common English words (:data:`STOP_WORDS`), and, over a corpus, names found
in more than ``max_doc_share`` of its documents (:meth:`NameMatcher.match_corpus`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Entity
from entqa_kit.kb.store import KnowledgeBase

AMBIGUOUS_POLICIES = ("canonical", "skip", "all")
CASE_RULES = ("auto", "exact", "insensitive")
_WHITESPACE = re.compile(r"\s")
SHORT_MIXED_CASE = 6
"""Mixed-case names up to this many characters (``mRNA``, ``HbS``) match only as written."""

_STOP_LIST = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each even ever few for from
    further general had has have having he her here hers him his how however i if in into is it its
    itself just least less like made make many may me might more most much must my near never new no
    nor not now of off often on once one only or other our out over own per same see several she
    should since so some such than that the their them then there these they this those though
    through to too under until up upon use used very was we well were what when where whether which
    while who whom whose why will with within without would yet you your
    back case change day end form free good great group high kind large last left life line little
    long low major man men mind name next number old open part place point right set show small state
    still take thing time total turn two way work world year
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_LIST.split())
"""Common English words, never used as names when they match case-insensitively."""


def fold_case(text: str) -> str:
    """Lowercase character by character, keeping a character whose lowercase form is longer (``İ``),
    so that offsets stay the same. Final sigma folds like sigma, whatever its context."""
    lower = text.lower()
    if len(lower) == len(text):  # no character grew, so each maps to exactly one
        return lower.replace("ς", "σ")
    out = []
    for char in text:
        lower = char.lower()
        out.append(lower if len(lower) == 1 else char)
    return "".join(out).replace("ς", "σ")


def fold_spaces(text: str) -> str:
    """Every whitespace character as one space (same length, so same offsets)."""
    return _WHITESPACE.sub(" ", text)


def normalize_name(name: str) -> str:
    """A KB name as it is matched: stripped, inner whitespace runs as one space."""
    return " ".join(name.split())


def is_word_char(char: str) -> bool:
    """Letters, digits and combining marks: a match may not start or end next to one."""
    return unicodedata.category(char)[0] in "LNM"


def is_acronym(name: str) -> bool:
    """No lowercase letter and at least two capitals: ``ALL``, ``AS``, ``BRCA1``, ``HIV-1``."""
    return not any(c.islower() for c in name) and sum(c.isupper() for c in name) >= 2


def exact_case(name: str, rule: str = "auto") -> bool:
    """Whether ``name`` matches only as written under case ``rule``."""
    if rule != "auto":
        return rule == "exact"
    if not any(c.islower() for c in name):
        return any(c.isupper() for c in name)
    return len(name) <= SHORT_MIXED_CASE and any(c.isupper() for c in name[1:])


@dataclass(frozen=True)
class MatcherOptions:
    """What decides which names are matched, and how."""

    min_chars: int = 3
    ambiguous: Literal["canonical", "skip", "all"] = "canonical"
    case: Literal["auto", "exact", "insensitive"] = "auto"
    stop_words: frozenset[str] = STOP_WORDS
    max_doc_share: float | None = 0.2
    min_docs_for_share: int = 20
    variants: bool = False
    """Also match British spellings and plurals of case-folded names (:mod:`entqa_kit.kb.name_variants`)."""

    def __post_init__(self) -> None:
        if self.ambiguous not in AMBIGUOUS_POLICIES:
            expected = " or ".join(repr(p) for p in AMBIGUOUS_POLICIES)
            raise EntQAError("E041", what="ambiguous", expected=expected, value=self.ambiguous)
        if self.case not in CASE_RULES:
            expected = " or ".join(repr(p) for p in CASE_RULES)
            raise EntQAError("E041", what="case", expected=expected, value=self.case)
        if self.min_chars < 1:
            raise EntQAError("E041", what="min_chars", expected="a whole number >= 1", value=self.min_chars)
        share = self.max_doc_share
        if share is not None and not 0 < share <= 1:
            raise EntQAError("E041", what="max_doc_share", expected="a share in (0, 1]", value=share)


@dataclass(frozen=True)
class NameMatch:
    """A KB name found in a text: ``text[start:end]``, the entity's id and row, the KB's spelling."""

    start: int
    end: int
    entity_id: str
    name: str
    row: int


@dataclass
class MatcherReport:
    """Distinct names considered, kept, and dropped by each filter (``frequent``: after a corpus run)."""

    names: int = 0
    kept: int = 0
    entities: int = 0
    given_to_canonical: int = 0
    dropped: dict[str, int] = field(
        default_factory=lambda: {"too_short": 0, "stop_word": 0, "ambiguous": 0, "frequent": 0}
    )

    def as_json(self) -> dict:
        return {
            "names": self.names,
            "kept": self.kept,
            "entities": self.entities,
            "given_to_canonical": self.given_to_canonical,
            "dropped": dict(self.dropped),
        }


@dataclass(frozen=True)
class _Name:
    """One automaton key: its KB spelling and the entities it links to."""

    key: str
    exact: bool
    name: str
    rows: tuple[int, ...]
    ids: tuple[str, ...]
    source: str = ""
    """The KB spelling a variant comes from (a name's own spelling otherwise)."""


@dataclass(frozen=True)
class CorpusMatches:
    """Matches per text of a corpus, and the names dropped as too frequent (with their document share)."""

    matches: list[list[NameMatch]]
    frequent: dict[str, float]


class NameMatcher:
    """Titles and aliases of a KB in two Aho-Corasick automata (case-exact and case-folded)."""

    def __init__(self, names: Iterable[_Name], options: MatcherOptions, report: MatcherReport) -> None:
        import ahocorasick

        self.options = options
        self.report = report
        self._exact = ahocorasick.Automaton()
        self._folded = ahocorasick.Automaton()
        for item in names:
            (self._exact if item.exact else self._folded).add_word(item.key, item)
        for automaton in (self._exact, self._folded):
            if len(automaton):
                automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._exact) + len(self._folded)

    @classmethod
    def from_kb(
        cls,
        kb: KnowledgeBase,
        options: MatcherOptions | None = None,
        labelled: Mapping[str, str] | None = None,
    ) -> NameMatcher:
        """A matcher over every title and alias of ``kb`` (and ``labelled``: see :meth:`from_entities`)."""
        return cls.from_entities(kb.iter_entities(), options, labelled)

    @classmethod
    def from_entities(
        cls,
        entities: Iterable[tuple[int, Entity]],
        options: MatcherOptions | None = None,
        labelled: Mapping[str, str] | None = None,
    ) -> NameMatcher:
        """A matcher over ``(row, entity)`` pairs, applying the name filters and the ambiguity policy.

        ``labelled`` (spelling -> entity id, :mod:`entqa_kit.kb.labelled_names`) adds names learnt
        from labels; each goes to its one entity, whatever other entities the KB gives it to."""
        options = options or MatcherOptions()
        report = MatcherReport()
        # key -> row -> (spelling, is it the title)
        found: dict[tuple[str, bool], dict[int, tuple[str, bool]]] = defaultdict(dict)
        ids: dict[int, str] = {}
        for row, entity in entities:
            ids[row] = entity.id
            title = normalize_name(entity.title)
            for name in (title, *(normalize_name(a) for a in entity.aliases)):
                if not name:
                    continue
                exact = exact_case(name, options.case)
                key = name if exact else fold_case(name)
                is_title = name == title if exact else key == fold_case(title)
                known = found[(key, exact)].get(row)
                if known is None or (is_title and not known[1]):
                    found[(key, exact)][row] = (name, is_title)
        _add_labelled(found, labelled or {}, {entity_id: row for row, entity_id in ids.items()}, options)
        sources = _add_variants(found) if options.variants else {}
        names = []
        for (key, exact), by_row in found.items():
            report.names += 1
            dropped = _filtered(key, exact, options)
            if dropped:
                report.dropped[dropped] += 1
                continue
            rows = sorted(by_row)
            if len(rows) > 1 and options.ambiguous != "all":
                canonical = [r for r in rows if by_row[r][1]]
                if options.ambiguous == "skip" or len(canonical) != 1:
                    report.dropped["ambiguous"] += 1
                    continue
                rows = canonical
                report.given_to_canonical += 1
            report.kept += 1
            spelling = by_row[rows[0]][0]
            source = sources.get(key, spelling) if not exact else spelling
            names.append(_Name(key, exact, spelling, tuple(rows), tuple(ids[r] for r in rows), source))
        report.entities = len({r for item in names for r in item.rows})
        return cls(names, options, report)

    def find(self, text: str, exclude: frozenset[str] = frozenset()) -> list[NameMatch]:
        """Leftmost-longest, non-overlapping matches on token boundaries, in text order. With
        ``ambiguous="all"``, a name of several entities gives one match per entity on the same span.
        Names in ``exclude`` (their KB spelling) are not matched, so shorter names under them can be."""
        spaced = fold_spaces(text)
        found: list[tuple[int, int, bool, _Name]] = []
        for automaton, haystack in ((self._exact, spaced), (self._folded, fold_case(spaced))):
            if not len(automaton):
                continue
            for last, item in automaton.iter(haystack):
                end = last + 1
                start = end - len(item.key)
                if item.name in exclude or item.source in exclude or not _on_boundaries(text, start, end):
                    continue
                found.append((start, end, item.exact, item))
        found.sort(key=lambda m: (m[0], -(m[1] - m[0]), not m[2]))
        matches: list[NameMatch] = []
        reached = 0
        for start, end, _, item in found:
            if start < reached:
                continue
            reached = end
            matches += [NameMatch(start, end, i, item.name, r) for r, i in zip(item.rows, item.ids)]
        return matches

    def candidates(self, text: str) -> list[int]:
        """KB rows of the entities named in ``text``, each once, in order of first mention."""
        return list(dict.fromkeys(m.row for m in self.find(text)))

    def match_corpus(
        self, texts: Sequence[str], on_text: Callable[[int], None] | None = None
    ) -> CorpusMatches:
        """Matches for every text. With ``max_doc_share`` set (and at least ``min_docs_for_share``
        texts), names found in more than that share of the texts are dropped (counted as
        ``frequent``) and the texts that held them are matched again. ``on_text(1)`` after each text."""
        tick = on_text or (lambda n: None)
        matches = []
        for text in texts:
            matches.append(self.find(text))
            tick(1)
        share = self.options.max_doc_share
        if share is None or len(texts) < self.options.min_docs_for_share:
            return CorpusMatches(matches, {})
        in_docs = Counter(name for found in matches for name in {m.name for m in found})
        frequent = {
            name: round(count / len(texts), 4)
            for name, count in in_docs.items()
            if count / len(texts) > share
        }
        self.report.dropped["frequent"] = len(frequent)
        if not frequent:
            return CorpusMatches(matches, {})
        excluded = frozenset(frequent)
        again = []
        for text, found in zip(texts, matches):
            again.append(self.find(text, excluded) if any(m.name in excluded for m in found) else found)
        return CorpusMatches(again, frequent)


def _add_labelled(
    found: dict[tuple[str, bool], dict[int, tuple[str, bool]]],
    labelled: Mapping[str, str],
    rows: dict[str, int],
    options: MatcherOptions,
) -> None:
    """Give each learnt spelling to its entity alone (as if it were the entity's title)."""
    for spelling, entity_id in sorted(labelled.items()):
        name, row = normalize_name(spelling), rows.get(entity_id)
        if not name or row is None:
            continue
        exact = exact_case(name, options.case)
        found[(name if exact else fold_case(name), exact)] = {row: (name, True)}


def _add_variants(found: dict[tuple[str, bool], dict[int, tuple[str, bool]]]) -> dict[str, str]:
    """Add each case-folded name's spelling variants that are not names of the KB themselves; returns
    the KB spelling each variant comes from. A variant counts as a name of its own for the corpus
    frequency filter, and is excluded with the name it comes from."""
    from entqa_kit.kb.name_variants import name_variants

    sources: dict[str, str] = {}
    variants: dict[tuple[str, bool], dict[int, tuple[str, bool]]] = defaultdict(dict)
    for (key, exact), by_row in found.items():
        if exact:
            continue
        for variant in name_variants(key):
            if (variant, False) not in found:
                for row, (spelling, is_title) in by_row.items():
                    known = variants[(variant, False)].get(row)
                    if known is None or (is_title and not known[1]):
                        variants[(variant, False)][row] = (variant, is_title)
                        sources[variant] = spelling
    found.update(variants)
    return sources


def _filtered(key: str, exact: bool, options: MatcherOptions) -> str | None:
    """The filter that drops this name, if any."""
    if len(key) < options.min_chars and not (exact and is_acronym(key)):
        return "too_short"
    if not exact and key in options.stop_words:
        return "stop_word"
    return None


def _on_boundaries(text: str, start: int, end: int) -> bool:
    """The span does not cut a word: no word character on both sides of either edge."""
    if start > 0 and is_word_char(text[start]) and is_word_char(text[start - 1]):
        return False
    return not (end < len(text) and is_word_char(text[end - 1]) and is_word_char(text[end]))
