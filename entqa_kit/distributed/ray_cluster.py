"""Start or join a Ray cluster for one command.

Without an address (and no ``RAY_ADDRESS`` in the environment) Ray starts a local cluster limited
to ``num_cpus`` CPUs, without the dashboard and without forwarding worker logs; with one
(``host:6379``, ``ray://host:10001`` or ``auto``) it joins that cluster. Every node of a joined
cluster needs entqa-kit installed and the index and model directories at the same paths.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from entqa_kit.core.errors import EntQAError


def import_ray() -> Any:
    """The ``ray`` module, or E141 when the ``distributed`` extra is not installed."""
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is part of the extra)
    except ImportError as exc:
        raise EntQAError("E141", detail=str(exc).splitlines()[0]) from None
    return ray


@contextmanager
def ray_cluster(address: str | None = None, num_cpus: int | None = None, quiet: bool = True) -> Iterator[Any]:
    """``ray`` connected for the duration of the block; a session already open is reused as is."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address is None:
        options |= {"num_cpus": num_cpus or os.cpu_count() or 1, "include_dashboard": False}
    try:
        ray.init(address=address, **options)
    except Exception as exc:  # Ray raises plain Exception too (a node that timed out starting)
        where = f" at {address}" if address else ""
        raise EntQAError(
            "E142", where=where, detail=str(exc).splitlines()[0] if str(exc) else "no detail"
        ) from None
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = not quiet
    if quiet:
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        yield ray
    finally:
        ray.shutdown()
