"""The error for a ``--model`` path that is not an entqa-kit model directory, saying what it is instead."""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.errors import EntQAError

_PLAIN_HF = (
    "it is a plain Hugging Face model (it has config.json): use it as an entity encoder "
    "('entqa-kit index KB --out DIR --model {path}'), or as the encoder model or reader.model of a "
    "training recipe and train an entqa-kit model from it ('entqa-kit train --recipe ...')"
)
_INDEX = "it is an index directory (it has manifest.json): pass it as --index"
_OTHER = (
    "give a directory written by 'entqa-kit train' or 'entqa-kit export', or leave --model out "
    "for the shipped default model"
)


def not_a_model_dir(path: str | Path) -> EntQAError:
    """E020 when ``path`` does not exist; else E093 naming what the folder (or file) holds."""
    path = Path(path)
    if not path.exists():
        return EntQAError("E020", model=str(path))
    if path.is_file():
        hint = "it is a file: give the model's directory"
    elif (path / "config.json").is_file():
        hint = _PLAIN_HF.format(path=path)
    elif (path / "manifest.json").is_file():
        hint = _INDEX
    else:
        hint = _OTHER
    return EntQAError("E093", model=str(path), hint=hint)
