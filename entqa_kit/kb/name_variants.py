"""Spelling variants of a KB name: British spellings and the plural, for KBs that list one form only.

MEDIC spells "tumor", "anemia" and "hemorrhage"; British-English abstracts write "tumour", "anaemia"
and "haemorrhage", and texts name diseases in the plural ("tumours", "chondrodysplasias"). A variant
is matched like the name it comes from and links to the same entity; a variant that is itself a name
of the KB is left to that name (``MatcherOptions.variants``).
"""

from __future__ import annotations

import re

_BRITISH = [
    (re.compile(r"\b(tum|behavi|col|hum|od|vap|trem)or(?=(s|ous)?\b)"), r"\1our"),  # not "motor", "donor"
    (re.compile(r"\bhem(?=[a-z]{3})"), "haem"),  # hemorrhage, hematoma, hemophilia
    (re.compile(r"(?<=[a-z])emi(?=a|c)"), "aemi"),  # anemia, leukemia, ischemic
    (re.compile(r"\bedema"), "oedema"),
    (re.compile(r"\besophag"), "oesophag"),
    (re.compile(r"(?<=[a-z])rrhea"), "rrhoea"),  # diarrhea, amenorrhea
    (re.compile(r"(?<=[a-z])pnea\b"), "pnoea"),  # apnea, dyspnea
    (re.compile(r"\b(c|f|)e(liac|tal|tus|strogen)"), r"\1oe\2"),  # coeliac, foetal, oestrogen
    (re.compile(r"\b(ortho|)ped(?=i?a|ic)"), r"\1paed"),  # paediatric, orthopaedic
    (re.compile(r"\banesthe"), "anaesthe"),
]
_PLURAL_SKIP = re.compile(r"(s|x|z|ch|sh|[0-9]|[^a-z])$")


def british_spellings(name: str) -> set[str]:
    """``name`` (case-folded) respelt in British English, where any rule applies."""
    respelt = name
    for pattern, replacement in _BRITISH:
        respelt = pattern.sub(replacement, respelt)
    return {respelt} - {name}


def plural(name: str) -> str | None:
    """``name`` (case-folded) with its last word in the plural, or None where no simple rule holds."""
    if _PLURAL_SKIP.search(name) or "," in name or len(name.rsplit(" ", 1)[-1]) < 4:
        return None
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    return name + "s"


def name_variants(name: str) -> set[str]:
    """British spellings and plurals of a case-folded name, without the name itself."""
    forms = {name, *british_spellings(name)}
    plurals = {p for form in forms if (p := plural(form))}
    return (forms | plurals) - {name}
