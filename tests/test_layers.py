"""The package's imports point only downwards: a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [
    "core",
    "io",
    "kb",
    "kb_adapters",
    "documents",
    "models",
    "index",
    "retrieval",
    "reading",
    "linking",
    "evaluation",
    "training",
    "adaptation",
    "serving",
    "distributed",
    "cli",
]
RANK = {name: i for i, name in enumerate(LAYERS)}
# adaptation, serving and distributed sit side by side above training; none imports another
PEERS = {"adaptation": 12, "serving": 12, "distributed": 12}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "kb_adapters":
        return "kb_adapters"
    if parts[0] != "entqa_kit" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in RANK else None


def rank(layer: str) -> int:
    return PEERS.get(layer, RANK[layer])


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import; use absolute entqa_kit imports")
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def source_files(root: Path) -> list[Path]:
    files = [p for p in (root / "entqa_kit").rglob("*.py") if p.parent != root / "entqa_kit"]
    return sorted(files + list((root / "kb_adapters").rglob("*.py")))


def upward_imports(root: Path = ROOT) -> list[str]:
    problems = []
    for path in source_files(root):
        own = layer_of(".".join(path.relative_to(root).with_suffix("").parts))
        assert own is not None, f"{path}: not in a known layer; add its folder to LAYERS"
        for line, module in imported_modules(path):
            target = layer_of(module)
            if target is None or target == own:
                continue
            if rank(target) > rank(own) or (target in PEERS and own in PEERS):
                problems.append(f"{path.relative_to(root)}:{line}: {own} imports {module} ({target})")
    return problems


def test_no_module_imports_from_a_higher_layer():
    assert upward_imports() == []


def test_every_subpackage_is_a_known_layer():
    folders = {p.name for p in (ROOT / "entqa_kit").iterdir() if (p / "__init__.py").is_file()}
    assert folders <= set(RANK), folders - set(RANK)


def test_the_checker_sees_an_upward_import(tmp_path):
    fake = tmp_path / "entqa_kit" / "core" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from entqa_kit.linking.linker import Linker\n")
    expected = ["entqa_kit/core/bad.py:1: core imports entqa_kit.linking.linker (linking)"]
    assert upward_imports(tmp_path) == expected


@pytest.mark.parametrize("module", ["entqa_kit", "entqa_kit.cli.main"])
def test_importing_the_package_does_not_import_torch(module):
    import subprocess
    import sys

    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
