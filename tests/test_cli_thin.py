"""The CLI is thin: each command parses its options, calls a library front door, and prints.

The rule, checked on every ``entqa_kit/cli/*_cmd.py`` from its syntax tree:
1. at module level it imports only the standard typing helpers, typer and ``entqa_kit.cli.common``
   (so ``entqa-kit --help`` imports no library code);
2. it never reaches into the pipeline's building blocks (INTERNALS): what a command does is a
   library function the Python API can call too (``entqa_kit.linking.run.link_inputs``, ...);
3. its functions hold at most MAX_CODE_LINES lines of code in all (option declarations do not count),
   which leaves room for parsing and printing, not for a pipeline.
"""

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[1] / "entqa_kit" / "cli"
COMMANDS = sorted(CLI.glob("*_cmd.py"))
MODULE_LEVEL = {"__future__", "pathlib", "typing", "collections.abc", "typer", "entqa_kit.cli.common"}
INTERNALS = (
    "entqa_kit.documents",
    "entqa_kit.retrieval",
    "entqa_kit.reading",
    "entqa_kit.kb.store",
    "entqa_kit.models.encoder",
    "entqa_kit.models.model_dir",
    "entqa_kit.models.default",
    "entqa_kit.index.dense",
    "entqa_kit.linking.linker",
    "entqa_kit.evaluation.linking",
    "entqa_kit.evaluation.retriever",
    "entqa_kit.evaluation.recall",
    "entqa_kit.evaluation.scoring",
    "entqa_kit.training.retriever_stage",
    "entqa_kit.training.reader_stage",
    "entqa_kit.training.recipes",
    "entqa_kit.training.loop",
)
MAX_CODE_LINES = 70


def imported_modules(nodes) -> list[str]:
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def is_internal(module: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in INTERNALS)


def code_lines(tree: ast.Module) -> int:
    """Lines of the bodies of the module's functions, docstrings left out."""
    total = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            total += body[-1].end_lineno - body[0].lineno + 1 if body else 0
    return total


def test_there_are_commands_to_check():
    assert {p.name for p in COMMANDS} >= {
        "calibrate_cmd.py",
        "evaluate_cmd.py",
        "export_cmd.py",
        "index_cmd.py",
        "link_cmd.py",
        "search_cmd.py",
        "train_cmd.py",
    }


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_a_command_imports_only_the_cli_helpers_at_module_level(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert set(imported_modules(tree.body)) <= MODULE_LEVEL


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_a_command_calls_front_doors_not_internals(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = [m for m in imported_modules(ast.walk(tree)) if is_internal(m)]
    assert inside == [], f"{path.name} does library work itself; move it into a library function"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_a_command_is_short(path):
    assert code_lines(ast.parse(path.read_text(encoding="utf-8"))) <= MAX_CODE_LINES


def test_the_rule_catches_a_fat_command():
    fat = '''
from pathlib import Path
import typer
from entqa_kit.linking.linker import Linker

def link_cli(index: Path) -> None:
    """Docstring."""
    from entqa_kit.documents.link_inputs import iter_inputs
''' + "\n".join(f"    x{i} = {i}" for i in range(MAX_CODE_LINES))
    tree = ast.parse(fat)
    assert not set(imported_modules(tree.body)) <= MODULE_LEVEL
    inside = [m for m in imported_modules(ast.walk(tree)) if is_internal(m)]
    assert inside == ["entqa_kit.linking.linker", "entqa_kit.documents.link_inputs"]
    assert code_lines(tree) == MAX_CODE_LINES + 1
