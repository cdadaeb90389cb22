"""Entity URIs for NIF/GERBIL: a template with ``{id}`` or ``{title}``, and the way back to KB ids."""

from __future__ import annotations

from urllib.parse import quote, unquote

from entqa_kit.core.errors import EntQAError

DBPEDIA = "http://dbpedia.org/resource/{title}"
WIKIPEDIA_FORMATS = ("kilt",)
# characters an IRI may not hold (RFC 3987) are percent-encoded; all else, Unicode included, stays as is
_NOT_IN_IRI = set(' "<>\\^`{|}%')


def iri_part(text: str) -> str:
    return "".join(quote(ch, safe="") if ch in _NOT_IN_IRI or not ch.isprintable() else ch for ch in text)


class EntityUris:
    """``uri(id, title)`` from a template; ``entity_id(uri, kb)`` reads a KB id back out of one."""

    def __init__(self, template: str) -> None:
        fields = [name for name in ("{id}", "{title}") if name in template]
        if len(fields) != 1 or template.count("{") != 1:
            raise EntQAError(
                "E041",
                what="--uri-template",
                expected="a URI holding exactly one of the fields id or title in braces",
                value=template,
            )
        self.template = template
        self.field = fields[0][1:-1]
        self.prefix, self.suffix = template.split(fields[0])

    @classmethod
    def for_kb(cls, kb_format: str, template: str | None = None, prefix: str = "urn:entqa:") -> EntityUris:
        """DBpedia resources for a Wikipedia-style KB (KILT), else ``prefix`` + the KB id; or ``template``."""
        if template is not None:
            return cls(template)
        return cls(DBPEDIA if kb_format in WIKIPEDIA_FORMATS else prefix + "{id}")

    def uri(self, entity_id: str, title: str) -> str:
        value = title.replace(" ", "_") if self.field == "title" else entity_id
        return self.prefix + iri_part(value) + self.suffix

    def entity_id(self, uri: str, kb) -> str | None:
        """The KB id a URI names (by id, or by title through the KB), or None when it names none."""
        if not (uri.startswith(self.prefix) and uri.endswith(self.suffix)):
            return None
        value = unquote(uri[len(self.prefix) : len(uri) - len(self.suffix)])
        if self.field == "id":
            return value if kb.row_of(value) is not None else None
        rows = kb.rows_by_title(value.replace("_", " "))
        return kb.by_row(rows[0]).id if rows else None
