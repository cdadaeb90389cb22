"""Train a recipe into a model directory: the retriever, then the reader on its candidates.

``train("recipes/aida-cpu.toml", "runs/aida-cpu")`` is what ``entqa-kit train`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.config import Recipe
from entqa_kit.core.errors import EntQAError

STAGES = ("all", "retriever", "reader", "names")


@dataclass(frozen=True)
class TrainRunResult:
    """The stages that ran (None: not run) and the model directory they wrote."""

    model_dir: Path
    stage: str
    retriever: object | None = None  # entqa_kit.training.retriever_stage.TrainResult
    reader: object | None = None  # entqa_kit.training.reader_stage.ReaderTrainResult
    names: object | None = None  # entqa_kit.kb.labelled_names.LabelledNames

    def as_json(self) -> dict:
        summary: dict = {"model": str(self.model_dir), "stage": self.stage}
        if self.retriever is not None:
            result = self.retriever
            summary |= {
                "best_epoch": result.best_epoch,
                "retriever_seconds": round(result.seconds, 1),
                "index": str(result.index_dir),
                "reindexed": result.reindexed,
                "dev": result.dev_recall.as_json() if result.dev_recall else None,
            }
        if self.reader is not None:
            summary |= {
                "reader_seconds": round(self.reader.seconds, 1),
                "reader_loss": round(self.reader.final_loss, 4),
            }
        if self.names is not None:
            summary["labelled_names"] = {
                "documents": self.names.documents,
                "aliases": len(self.names.aliases),
                "excluded": len(self.names.excluded),
            }
        return summary


def _recipe(recipe: str | Path | Recipe, overrides: Sequence[str]) -> Recipe:
    from entqa_kit.training.recipes import load_recipe, overridden

    if not isinstance(recipe, Recipe):
        return load_recipe(Path(recipe), list(overrides))
    if not overrides:
        return recipe
    return overridden(recipe, list(overrides), f"{recipe.name}: ")


def train(
    recipe: str | Path | Recipe,
    out: str | Path,
    stage: str = "all",
    resume: bool = False,
    overrides: Sequence[str] = (),
    quiet: bool = False,
) -> TrainRunResult:
    """Train ``recipe`` (a TOML path or a Recipe; ``overrides`` are ``a.b=value``) into ``out``.

    ``stage``: all (retriever, reader, names), retriever, reader, or names (the recipe's name settings
    and the names learnt from its labels, :mod:`~entqa_kit.training.names_stage`); ``resume``
    continues each stage from its last epoch checkpoint in ``out``.
    """
    if stage not in STAGES:
        expected = "'retriever', 'reader', 'names' or 'all'"
        raise EntQAError("E041", what="--stage", expected=expected, value=stage)
    loaded, out = _recipe(recipe, overrides), Path(out)
    retriever = reader = None
    if stage in ("retriever", "all"):
        from entqa_kit.training.retriever_stage import train_retriever

        retriever = train_retriever(loaded, out, resume=resume, quiet=quiet)
    if stage in ("reader", "all"):
        from entqa_kit.training.reader_stage import train_reader

        reader = train_reader(loaded, out, resume=resume, quiet=quiet)
    names = None
    if stage in ("names", "all"):
        from entqa_kit.training import distributed
        from entqa_kit.training.names_stage import train_names

        if distributed.is_main():  # under torchrun, rank 0 alone writes files
            names = train_names(loaded, out)
    return TrainRunResult(out, stage, retriever, reader, names)
