"""Per-epoch training checkpoints as safetensors (weights and optimizer state) plus JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from entqa_kit.core.atomic import write_json_atomic
from entqa_kit.core.errors import EntQAError, reason

LAST = "checkpoints/last"
STATE_FILE = "state.json"


def save_checkpoint(
    model_dir: Path, modules: dict[str, Any], optimizer, state: dict[str, Any], name: str = LAST
) -> Path:
    """Write a checkpoint folder atomically: each module's weights, the optimizer, the loop state."""
    from safetensors.torch import save_file, save_model

    final = model_dir / name
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for module_name, module in modules.items():
        save_model(module, str(tmp / f"{module_name}.safetensors"))
    tensors, groups = _flatten_optimizer(optimizer.state_dict())
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    write_json_atomic(tmp / STATE_FILE, {**state, "param_groups": groups})
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(
    model_dir: Path, modules: dict[str, Any], optimizer, name: str = LAST
) -> dict[str, Any] | None:
    """Restore weights and optimizer from a checkpoint folder; the loop state, or None if absent."""
    from safetensors.torch import load_file, load_model

    final = model_dir / name
    if not (final / STATE_FILE).is_file():
        return None
    try:
        for module_name, module in modules.items():
            load_model(module, str(final / f"{module_name}.safetensors"))
        state = json.loads((final / STATE_FILE).read_text(encoding="utf-8"))
        tensors = load_file(str(final / "optimizer.safetensors"))
        optimizer.load_state_dict(_unflatten_optimizer(tensors, state.pop("param_groups")))
    except Exception as exc:  # damaged or truncated files (json, safetensors, shapes): a coded error
        raise EntQAError("E075", path=final, detail=reason(exc)) from None
    return state


def _flatten_optimizer(state_dict: dict) -> tuple[dict, list]:
    tensors = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            tensors[f"{index}.{key}"] = value.detach().clone().contiguous().reshape(value.shape)
    return tensors, state_dict["param_groups"]


def _unflatten_optimizer(tensors: dict, groups: list) -> dict:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": groups}
