"""The names stage of ``train``: the name layer of a model, without retraining it.

``train`` ends here, and ``--stage names`` runs it alone on a trained model (to try other name settings,
or on a model trained before they existed). It copies the recipe's name settings (:data:`NAME_SETTINGS`
of ``[link]``) into the model, keeping its other link settings such as a calibrated γ, and with
``link.labelled_names`` on learns names from the first ``data.train_docs`` of ``data.train``
(:func:`~entqa_kit.kb.labelled_names.learn_names`) into ``labelled_names.json``.
"""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.config import LinkConfig, Recipe
from entqa_kit.documents.unlabelled import labelled_documents
from entqa_kit.kb.labelled_names import LabelledNames, learn_names, save_labelled_names
from entqa_kit.kb.store import KnowledgeBase

NAME_SETTINGS = (
    "candidates",
    "name_candidates",
    "abbreviations",
    "name_variants",
    "name_exclude",
    "name_fallback",
    "name_anchor_floor",
    "labelled_names",
)
"""The link settings of the name layer: what the KB's names add to the reader's spans."""


def train_names(recipe: Recipe, model_dir: Path) -> LabelledNames | None:
    """Give the model in ``model_dir`` the recipe's name settings and, with ``link.labelled_names``,
    the names its labelled documents teach (returned; None when the setting is off)."""
    from entqa_kit.index.dense import KB_STORE
    from entqa_kit.models.model_dir import read_model_config, write_model_dir
    from entqa_kit.training.reader_stage import model_index_dir

    link = recipe.link or LinkConfig()
    names = None
    if link.labelled_names:
        kb = KnowledgeBase(model_index_dir(model_dir, recipe) / KB_STORE)
        try:
            documents = labelled_documents(recipe.data, kb).documents
            names = learn_names(documents, kb, link.name_variants, link.name_exclude)
        finally:
            kb.close()
        save_labelled_names(model_dir, names)
    config = read_model_config(model_dir)
    settings = {key: getattr(link, key) for key in NAME_SETTINGS}
    config.link = (config.link or link).model_copy(update=settings)
    write_model_dir(model_dir, config)
    return names
