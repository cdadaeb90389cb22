"""Text from a KB, a document or a query is data: shown literally, never interpreted by the terminal.

:func:`visible` makes control characters (ESC, BEL, newlines, bidirectional overrides, lone
surrogates) visible as Python-style escapes such as ``\\x1b``; :func:`literal` also escapes
Rich markup, for text that goes into a Rich table, title or ``console.print``.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidirectional embeddings/overrides/isolates, lone surrogates.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` as a string whose control characters are shown as escapes (``\\x1b``, ``\\n``)."""
    return _INVISIBLE.sub(_escape, str(text))


def literal(text: object) -> str:
    """``text`` for Rich output: control characters visible and markup (``[bold]``) escaped."""
    from rich.markup import escape

    return escape(visible(text))
