"""Where the reader runs: the device of its weights, and input batches moved there."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

Inputs = TypeVar("Inputs")


def inputs_on(inputs: Inputs, device: Any) -> Inputs:
    """A copy of ``inputs`` (a dataclass of tensors) with every tensor on ``device`` (the same
    tensors where they are there already)."""
    fields = dataclasses.fields(inputs)  # type: ignore[arg-type]
    return dataclasses.replace(inputs, **{f.name: getattr(inputs, f.name).to(device) for f in fields})


def model_device(model: Any) -> str:
    """The device of ``model``'s weights, e.g. ``cpu`` or ``cuda:0`` (``cpu`` when it has none)."""
    for parameter in model.parameters():
        return str(parameter.device)
    return "cpu"
