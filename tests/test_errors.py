import string

import pytest

from entqa_kit.core.errors import CATALOGUE, EntQAError


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_renders(code):
    parsed = [(name, spec) for _, name, spec, _ in string.Formatter().parse(CATALOGUE[code]) if name]
    fields = {name: 1234 if spec or name == "line" else "x" for name, spec in parsed}
    error = EntQAError(code, **fields)
    assert str(error).startswith(f"[{code}] ")
    assert "{" not in str(error)
    assert ";" in str(error), "every message says what to do after a semicolon"


def test_unknown_code_is_a_programming_error():
    with pytest.raises(KeyError):
        EntQAError("E999")


def test_line_is_exposed():
    assert EntQAError("E004", path="kb.jsonl", line=3, detail="x").line == 3
