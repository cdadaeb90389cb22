"""Test modules share helpers through tests/conftest.py only, never by importing each other."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def cross_imports(source: str) -> list[str]:
    """Modules a test module imports from other test modules (``tests.test_x``, ``.test_x``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            names = [module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [n for n in names if n.lstrip(".").split(".")[-1].startswith("test_") or ".test_" in n]
    return found


def test_no_test_module_imports_another():
    modules = sorted(TESTS.glob("test_*.py"))
    assert len(modules) > 10
    offenders = {p.name: cross_imports(p.read_text(encoding="utf-8")) for p in modules}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_sees_both_spellings():
    assert cross_imports("from tests.test_train import write_recipe\nfrom .test_index import stop_after") == [
        "tests.test_train",
        ".test_index",
    ]
    assert cross_imports("from tests.conftest import FIXTURES\nimport json") == []
