"""Names learnt from labelled documents: how the user's labels spell their entities, and which KB names
the labels show to be mostly wrong links.

With ``link.labelled_names`` on, ``train`` learns them from the recipe's labelled documents and saves
them in the model directory (``labelled_names.json``). The linker's name matcher (name candidates and
the name fallback) then also matches each learnt spelling, given to the entity the labels give it most
often (the labels win where the KB gives that spelling to another entity), and never matches an
excluded name: one matched at least ``MIN_MATCHES`` times in the labelled documents and a correct link
at fewer than ``MAX_PRECISION`` of them. The reader is trained without them. Chosen on NCBI-disease
dev against MEDIC (``benchmarks/RESULTS.md``, "Names learnt from labels").
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.errors import EntQAError
from entqa_kit.core.records import Document

LABELLED_NAMES_FILE = "labelled_names.json"
MIN_MATCHES = 2
MAX_PRECISION = 0.3
FORMAT_VERSION = 1


@dataclass(frozen=True)
class LabelledNames:
    """Learnt spellings (spelling -> entity id), excluded KB names, and what they were learnt from."""

    aliases: dict[str, str]
    excluded: tuple[str, ...] = ()
    documents: int = 0
    mentions: int = 0

    def as_json(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "documents": self.documents,
            "mentions": self.mentions,
            "aliases": dict(sorted(self.aliases.items())),
            "excluded": sorted(self.excluded),
        }

    @classmethod
    def from_json(cls, value: object, path: Path) -> LabelledNames:
        """The names of a ``labelled_names.json`` object; E045 when it is not one."""
        try:
            aliases = value["aliases"]  # type: ignore[index]
            excluded = value["excluded"]  # type: ignore[index]
            if not isinstance(aliases, dict) or not isinstance(excluded, list):
                raise TypeError("aliases must be an object and excluded a list")
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
                raise TypeError("aliases must map spellings to entity ids")
            if not all(isinstance(name, str) for name in excluded):
                raise TypeError("excluded must hold names")
            return cls(
                aliases=dict(aliases),
                excluded=tuple(excluded),
                documents=int(value.get("documents", 0)),  # type: ignore[union-attr]
                mentions=int(value.get("mentions", 0)),  # type: ignore[union-attr]
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise EntQAError("E045", path=path, detail=str(error)) from error


def majority_spellings(documents: Iterable[Document]) -> tuple[dict[str, str], int]:
    """Each labelled spelling (whitespace folded) and the entity its mentions link to most often (ties:
    the smallest id), from mentions of one KB entity; and how many such mentions there were."""
    from entqa_kit.kb.name_matcher import normalize_name

    votes: dict[str, Counter[str]] = defaultdict(Counter)
    mentions = 0
    for document in documents:
        for mention in document.mentions:
            if len(mention.entities) != 1:  # composite or out of the KB: no single spelling to learn
                continue
            spelling = normalize_name(document.text[mention.start : mention.end])
            if spelling:
                votes[spelling][mention.entities[0]] += 1
                mentions += 1
    chosen = {s: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for s, c in votes.items()}
    return chosen, mentions


def mostly_wrong_names(
    matches_and_gold: Iterable[tuple[list, dict]],
    min_matches: int = MIN_MATCHES,
    max_precision: float = MAX_PRECISION,
) -> tuple[str, ...]:
    """Names matched at least ``min_matches`` times and right at fewer than ``max_precision`` of them.

    ``matches_and_gold``: per document, its :class:`NameMatch` list and ``{(start, end): entity ids}``."""
    seen: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for matches, gold in matches_and_gold:
        for match in matches:
            seen[match.name] += 1
            right[match.name] += match.entity_id in gold.get((match.start, match.end), ())
    wrong = (n for n, count in seen.items() if count >= min_matches and right[n] / count < max_precision)
    return tuple(sorted(wrong))


def kb_spellings(documents: Iterable[Document], kb) -> tuple[dict[str, str], int]:
    """:func:`majority_spellings` of entities that ``kb`` holds."""
    spellings, mentions = majority_spellings(documents)
    return {s: e for s, e in spellings.items() if kb.row_of(e) is not None}, mentions


def judged_matches(documents: Iterable[Document], matcher, exclude: frozenset[str] = frozenset()):
    """Per document, ``matcher``'s matches (less ``exclude``) and its gold ``{(start, end): entity ids}``:
    what :func:`mostly_wrong_names` reads."""
    for document in documents:
        gold = {(m.start, m.end): m.entities for m in document.mentions}
        yield matcher.find(document.text, exclude), gold


def learn_names(documents: list[Document], kb, variants: bool, exclude: Iterable[str] = ()) -> LabelledNames:
    """The names the labelled ``documents`` teach about ``kb``: their spellings, then the names that a
    matcher with those spellings (and ``variants``, less ``exclude``) links mostly wrongly in them."""
    from entqa_kit.kb.name_matcher import MatcherOptions, NameMatcher

    aliases, mentions = kb_spellings(documents, kb)
    matcher = NameMatcher.from_kb(kb, MatcherOptions(variants=variants), labelled=aliases)
    judged = judged_matches(documents, matcher, frozenset(exclude))
    return LabelledNames(aliases, mostly_wrong_names(judged), len(documents), mentions)


def save_labelled_names(model_dir: Path, names: LabelledNames) -> Path:
    """Write ``names`` into ``model_dir`` (atomically); returns the file."""
    path = Path(model_dir) / LABELLED_NAMES_FILE
    write_json_atomic(path, names.as_json())
    return path


def load_labelled_names(model_dir: Path) -> LabelledNames:
    """The learnt names saved in ``model_dir``; E045 when the file is missing or malformed."""
    path = Path(model_dir) / LABELLED_NAMES_FILE
    if not path.is_file():
        raise EntQAError(
            "E045", path=path, detail="the model's link.labelled_names is on but it has no learnt names"
        )
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EntQAError("E045", path=path, detail=f"not JSON: {error}") from error
    return LabelledNames.from_json(value, path)
