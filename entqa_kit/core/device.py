"""Which torch device a command runs on: ``--device auto|cpu|cuda`` (CPU is the default).

The CLI resolves the option once with :func:`select_device`; the encoders, the reader, training and
the index search (flat with torch, ivfpq with faiss-gpu) then read :func:`current_device`. ``auto``
is CUDA when torch sees a GPU, else the CPU. A CUDA request without a usable GPU is one coded error
(E140), never a silent fallback.
"""

from __future__ import annotations

from typing import Any

from entqa_kit.core.errors import EntQAError

DEVICES = ("auto", "cpu", "cuda")
_current = "cpu"


def resolve_device(device: str | None) -> str:
    """``cpu`` or ``cuda`` (``cuda:N`` is kept) for the ``--device`` value ``device`` (None: cpu)."""
    name = (device or "cpu").strip().lower()
    if name not in DEVICES and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise EntQAError("E041", what="--device", expected="auto, cpu or cuda", value=device)
    if name == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if name == "auto":
        return "cuda" if available else "cpu"
    if not available:
        build = torch.version.cuda
        detail = (
            f"torch {torch.__version__} is a CPU-only build"
            if build is None
            else f"torch {torch.__version__} (CUDA {build}) sees no GPU"
        )
        raise EntQAError("E140", device=device, detail=detail)
    index = int(name[5:]) if ":" in name else 0
    if index >= torch.cuda.device_count():
        detail = (
            f"there are {torch.cuda.device_count()} GPUs (cuda:0 to cuda:{torch.cuda.device_count() - 1})"
        )
        raise EntQAError("E140", device=device, detail=detail)
    return name


def select_device(device: str | None) -> str:
    """Resolve ``device`` and make it the process's device for encoding and search; returns it."""
    global _current
    _current = resolve_device(device)
    return _current


def current_device() -> str:
    """The device chosen by :func:`select_device` (``cpu`` until then)."""
    return _current


def autocast(device: str, enabled: bool = True) -> Any:
    """Mixed precision for ``device``: bf16 on the CPU (when ``enabled``), bf16 or fp16 on CUDA
    (bf16 where the GPU has it; always on for CUDA)."""
    import torch

    if device.startswith("cuda"):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)
