"""``entqa-kit train --nproc N``: run the same command under ``torch.distributed.run`` (torchrun)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from entqa_kit.core.errors import EntQAError


def torchrun_command(nproc: int, arguments: Sequence[str]) -> list[str]:
    """The command line that runs ``entqa-kit ARGUMENTS`` in ``nproc`` processes on this machine."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "entqa_kit",
        *arguments,
    ]


def launch(nproc: int, arguments: Sequence[str]) -> None:
    """Run ``entqa-kit ARGUMENTS`` in ``nproc`` processes (one rank each); E145 when it fails.

    Each process gets an equal share of the CPU threads (torchrun would otherwise set one)."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    code = subprocess.run(torchrun_command(nproc, arguments), env=env, check=False).returncode
    if code != 0:
        raise EntQAError("E145", nproc=nproc, status=code)
