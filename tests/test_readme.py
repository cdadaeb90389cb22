"""The README's runnable examples run as written, and print what the README shows.

A ```bash or ```python block right after a ``<!-- runnable -->`` line is run, in README order, from
the repository root (bash blocks in a shell with the venv's ``entqa-kit`` first on PATH, python
blocks in this process). Paths under ``/tmp/entqa-kit-`` are moved into a temporary folder. A block
right after ``<!-- output -->`` is what the runnable block before it prints: each of its table rows
(lines starting with ``│``; every line after a python block) must appear in the output, with the
digits of scores free to differ.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(r"<!-- (runnable|output) -->\n```(\w*)\n(.*?)\n```", re.S)
_SCORE = re.compile(r"\d+\.\d+")


@dataclass
class Example:
    language: str
    code: str
    expected_rows: list[str]


def runnable_examples(text: str) -> list[Example]:
    examples: list[Example] = []
    for kind, language, body in _BLOCK.findall(text):
        if kind == "runnable":
            examples.append(Example(language, body, []))
        elif examples:
            python = examples[-1].language == "python"
            rows = [line for line in body.splitlines() if line.startswith("│") or (python and line.strip())]
            examples[-1].expected_rows += rows
    return examples


def row_pattern(row: str) -> re.Pattern[str]:
    """A table row with any score digits and any run of spaces."""
    parts = []
    for piece in re.split(r"(\d+\.\d+|\s+)", row.strip()):
        if not piece:
            continue
        parts.append(
            r"\d+\.\d+" if _SCORE.fullmatch(piece) else r"\s+" if piece.isspace() else re.escape(piece)
        )
    return re.compile("".join(parts))


def test_readme_marks_runnable_examples_with_outputs():
    examples = runnable_examples(README.read_text(encoding="utf-8"))
    assert {e.language for e in examples} == {"bash", "python"}
    assert any(e.expected_rows for e in examples)
    assert row_pattern("│ 1 │ C19 │ Electric car │ 0.6835 │").search("│    1 │ C19 │ Electric car │ 0.7001 │")


@pytest.mark.default_slow
def test_readme_examples_run_as_written(tmp_path):
    examples = runnable_examples(README.read_text(encoding="utf-8"))
    assert examples, "the README has runnable examples"
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "100",
    }
    for example in examples:
        code = example.code.replace("/tmp/entqa-kit-", f"{tmp_path}/entqa-kit-")
        if example.language == "bash":
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{example.code}\n{done.stderr}"
            output = done.stdout + done.stderr
        else:
            buffer = io.StringIO()
            cwd = Path.cwd()
            os.chdir(ROOT)
            try:
                with contextlib.redirect_stdout(buffer):
                    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
            finally:
                os.chdir(cwd)
            output = buffer.getvalue()
        for row in example.expected_rows:
            assert row_pattern(row).search(output), f"README row not printed: {row}\n{output}"
