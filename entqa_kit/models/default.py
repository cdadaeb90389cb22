"""The shipped default model: ``aida-cpu`` (MiniLM retriever + reader), fp16 safetensors in the package.

``link``, ``evaluate`` and ``index`` use it when ``--model`` is not given. It loads from the
package directory with no network; its entity tower is the offline MiniLM from PyPI.
"""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.errors import EntQAError

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "default_model"


def default_model_dir() -> Path:
    """The shipped model's directory, or a coded error when the package was installed without it."""
    if not (DEFAULT_MODEL_DIR / "entqa_config.json").is_file():
        raise EntQAError("E023", path=DEFAULT_MODEL_DIR)
    return DEFAULT_MODEL_DIR


def model_or_default(model: str | Path | None) -> str:
    """``model`` itself, or the shipped default's directory when it is not given."""
    return str(model) if model is not None else str(default_model_dir())


def is_shipped_default(model: str | Path) -> bool:
    """Whether ``model`` is the shipped model's directory inside the installed package."""
    try:
        return Path(model).resolve() == DEFAULT_MODEL_DIR
    except OSError:
        return False
