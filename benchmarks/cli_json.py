"""Run an `entqa-kit` command of this venv with --json -q, for the benchmark scripts beside this file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

CLI = [str(Path(sys.executable).with_name("entqa-kit"))]


def cli(*args: str) -> tuple[dict, float]:
    """The last JSON line the command prints, and its wall seconds; a failure stops the script."""
    started = time.perf_counter()
    done = subprocess.run([*CLI, *args, "--json", "-q"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: entqa-kit {' '.join(args)}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - started
