"""Export a model directory with its weights cast to a smaller float type (fp16 by default).

Training checkpoints are left out; every ``*.safetensors`` file is rewritten with its
floating-point tensors cast, and everything else is copied. The copy is built beside the
target and renamed into place, so an interrupted export never leaves a half-written model.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.errors import EntQAError
from entqa_kit.models.model_dir import is_model_dir
from entqa_kit.models.not_a_model import not_a_model_dir

SKIPPED = ("checkpoints",)
DTYPES = ("float16", "bfloat16", "float32")


@dataclass(frozen=True)
class ExportResult:
    out: Path
    files: int
    bytes: int


def _cast_safetensors(source: Path, target: Path, dtype: str) -> None:
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    wanted = getattr(torch, dtype)
    tensors = {}
    with safe_open(str(source), framework="pt") as handle:
        metadata = handle.metadata() or {}
        for name in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
            tensor = handle.get_tensor(name)
            tensors[name] = tensor.to(wanted) if tensor.is_floating_point() else tensor
    save_file(
        {k: v.contiguous() for k, v in tensors.items()}, str(target), metadata=metadata | {"format": "pt"}
    )


def export_model(source: Path, out: Path, dtype: str = "float16", overwrite: bool = False) -> ExportResult:
    if not is_model_dir(source):
        raise not_a_model_dir(source)
    if dtype not in DTYPES:
        raise EntQAError("E041", what="--dtype", expected=", ".join(DTYPES), value=dtype)
    if out.exists() and not overwrite:
        raise EntQAError("E094", path=out)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    files = size = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or relative.parts[0] in SKIPPED or path.name.endswith(".partial"):
            continue
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".safetensors":
            _cast_safetensors(path, target, dtype)
        else:
            shutil.copy2(path, target)
        files += 1
        size += target.stat().st_size
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return ExportResult(out, files, size)
