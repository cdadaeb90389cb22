"""The names stage of ``train``: learn names from the recipe's labelled documents into the model.

With ``link.labelled_names`` on, ``train`` ends here (``--stage names`` runs it alone, e.g. on a model
trained before the setting existed): :func:`~entqa_kit.kb.labelled_names.learn_names` over the first
``data.train_docs`` of ``data.train``, saved as ``labelled_names.json``, and the model's link settings
turn ``labelled_names`` on (its other link settings, such as a calibrated γ, are kept).
"""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.config import Recipe
from entqa_kit.core.errors import EntQAError
from entqa_kit.kb.labelled_names import LabelledNames, learn_names, save_labelled_names
from entqa_kit.kb.store import KnowledgeBase


def labelled_documents(recipe: Recipe, kb: KnowledgeBase) -> list:
    """The recipe's labelled training documents (none without ``data.train``)."""
    from entqa_kit.documents import load_documents

    data = recipe.data
    if data.train is None:
        return []
    documents = load_documents(Path(data.train), kb, data.format, data.train_split)
    return documents.first(data.train_docs).documents


def train_names(recipe: Recipe, model_dir: Path) -> LabelledNames:
    """Learn and save the names of ``recipe``'s labelled documents into ``model_dir`` (E041 when the
    recipe's ``link.labelled_names`` is off)."""
    from entqa_kit.index.dense import KB_STORE
    from entqa_kit.models.model_dir import read_model_config, write_model_dir
    from entqa_kit.training.reader_stage import model_index_dir

    link = recipe.link
    if link is None or not link.labelled_names:
        expected = "on (set link.labelled_names = true in the recipe, or --set link.labelled_names=true)"
        raise EntQAError("E041", what="link.labelled_names for --stage names", expected=expected, value=False)
    kb = KnowledgeBase(model_index_dir(model_dir, recipe) / KB_STORE)
    try:
        names = learn_names(labelled_documents(recipe, kb), kb, link.name_variants, link.name_exclude)
    finally:
        kb.close()
    save_labelled_names(model_dir, names)
    config = read_model_config(model_dir)
    if config.link is not None and not config.link.labelled_names:
        config.link = config.link.model_copy(update={"labelled_names": True})
        write_model_dir(model_dir, config)
    return names
