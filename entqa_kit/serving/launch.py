"""Start ``entqa-kit serve`` in a child process on a free loopback port (for tests and benchmarks)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen
    log_path: Path
    seconds_to_start: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(
    index_dir: str | Path,
    model_dir: str | Path | None = None,
    args: Sequence[str] = (),
    start_timeout: float = 180,
) -> Iterator[ServerProcess]:
    """Yield a started server (``/health`` answers); on exit send SIGINT and wait for it to stop."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "entqa_kit", "serve", "--index", str(index_dir), "--port", str(port)]
    command += ["--model", str(model_dir)] if model_dir is not None else []
    log_path = Path(tempfile.mkstemp(prefix="entqa-serve-", suffix=".log")[1])
    with log_path.open("w", encoding="utf-8") as log:
        clock = time.perf_counter()
        process = subprocess.Popen([*command, *args], stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}):\n{server.log()}")
            try:
                httpx.get(f"{server.url}/health", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not answer in {start_timeout} s:\n{server.log()}"
                    ) from None
                time.sleep(0.2)
        server.seconds_to_start = time.perf_counter() - clock
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
