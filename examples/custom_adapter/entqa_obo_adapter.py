"""An example third-party KB adapter for entqa-kit: OBO ontology files (``.obo``).

Installed as a package (see ``pyproject.toml`` next to this file), it registers
itself under the entry-point group ``entqa_kit.kb_adapters`` as ``obo``, and
``entqa-kit index terms.obo --out idx`` then reads OBO files through it.

Each ``[Term]`` stanza becomes one entity:

* ``id:`` is the entity id, ``name:`` its title;
* the quoted text of ``def: "..." [refs]`` is its description;
* ``synonym: "..." EXACT [refs]`` lines are its aliases (other scopes are left out,
  see :attr:`OboAdapter.synonym_scopes`);
* terms with ``is_obsolete: true`` are skipped;
* other stanzas (``[Typedef]``, ``[Instance]``) and the header are ignored.

The file is streamed line by line, so memory stays constant whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entqa_kit.core.errors import EntQAError
from entqa_kit.core.paths import require_file
from entqa_kit.core.records import Entity, SourceEntity
from kb_adapters.base import BadRowLog, ReadOptions

_ESCAPES = {"n": "\n", "t": "\t", "W": " "}


def _unescape(text: str) -> str:
    """Resolve OBO backslash escapes (``\\"``, ``\\\\``, ``\\n``, ``\\W``, ...)."""
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPES.get(following, following))
        else:
            out.append(char)
    return "".join(out)


def _plain_value(value: str) -> str:
    """An unquoted value without its ``! comment`` and ``{trailing modifiers}``."""
    escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "!" and (index == 0 or value[index - 1].isspace()):
            value = value[:index]
            break
    value = value.strip()
    if value.endswith("}") and " {" in value:
        value = value[: value.rindex(" {")]
    return _unescape(value).strip()


def _quoted_value(value: str) -> tuple[str, str] | None:
    """Split ``"text" rest`` into the unescaped text and the rest; None if not quoted."""
    if not value.startswith('"'):
        return None
    escaped = False
    for index in range(1, len(value)):
        char = value[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return _unescape(value[1:index]).strip(), value[index + 1 :].strip()
    return _unescape(value[1:]).strip(), ""  # no closing quote: take the rest of the line


class _Stanza:
    """What one stanza has said so far."""

    def __init__(self, line: int, header: str) -> None:
        self.line = line
        self.is_term = header == "[Term]"
        self.id = ""
        self.name = ""
        self.definition = ""
        self.synonyms: list[str] = []
        self.obsolete = False
        self.broken = False


class OboAdapter:
    """Reads the ``[Term]`` stanzas of an OBO 1.2/1.4 file as entities."""

    name = "obo"
    extensions = (".obo",)
    synonym_scopes: tuple[str, ...] = ("EXACT",)

    def sniff(self, first_record: Any) -> bool:
        # The registry sniffs parsed JSON records; an OBO file is never JSON, and
        # the ``.obo`` extension alone already selects this adapter.
        return False

    def read(self, path: Path, options: ReadOptions, bad: BadRowLog) -> Iterator[SourceEntity]:
        require_file(path, "KB")  # E001 missing, E017 a directory, E078 a broken link
        return self._read(path, bad)

    def _read(self, path: Path, bad: BadRowLog) -> Iterator[SourceEntity]:
        stanza: _Stanza | None = None
        found_term = False
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if stanza is not None:
                        stanza.broken = True  # drop the whole term rather than half of it
                    bad.report(EntQAError("E003", path=path, line=number, detail=f"byte {exc.start}"))
                    continue
                line = text.strip()
                if line.startswith("[") and line.endswith("]"):
                    if stanza is not None:
                        yield from self._finish(stanza, path, bad)
                    stanza = _Stanza(number, line)
                    found_term = found_term or stanza.is_term
                elif stanza is not None and stanza.is_term and line and not line.startswith("!"):
                    tag, colon, value = line.partition(":")
                    if colon:
                        self._take(stanza, tag.strip(), value.strip())
        if stanza is not None:
            yield from self._finish(stanza, path, bad)
        if not found_term:
            raise EntQAError("E002", path=path)

    def _take(self, stanza: _Stanza, tag: str, value: str) -> None:
        if tag == "id" and not stanza.id:
            stanza.id = _plain_value(value)
        elif tag == "name" and not stanza.name:
            stanza.name = _plain_value(value)
        elif tag == "def" and not stanza.definition:
            quoted = _quoted_value(value)
            stanza.definition = quoted[0] if quoted else _plain_value(value)
        elif tag == "synonym":
            quoted = _quoted_value(value)
            if quoted and quoted[0]:
                scope = quoted[1].split(maxsplit=1)[0] if quoted[1] else ""
                if scope in self.synonym_scopes:
                    stanza.synonyms.append(quoted[0])
        elif tag == "is_obsolete":
            stanza.obsolete = _plain_value(value).lower() == "true"

    def _finish(self, stanza: _Stanza, path: Path, bad: BadRowLog) -> Iterator[SourceEntity]:
        if not stanza.is_term or stanza.broken or stanza.obsolete:
            return
        if not stanza.id:
            bad.report(EntQAError("E008", path=path, line=stanza.line, field="id"))
            return
        if not stanza.name:
            bad.report(EntQAError("E006", path=path, line=stanza.line, field="name"))
            return
        aliases = tuple(dict.fromkeys(s for s in stanza.synonyms if s != stanza.name))
        entity = Entity(
            id=stanza.id, title=stanza.name, description=stanza.definition, aliases=aliases, types=()
        )
        yield SourceEntity(line=stanza.line, entity=entity)
