"""entqa-kit: EntQA entity linking (retrieve, then read) for your own knowledge base.

Importing the package does no torch work: the public names below load their module on
first use. ``from entqa_kit import Linker, build_index, EntQAError``.

Layout (one folder per stage; imports point only downwards, never to a higher layer;
``tests/test_layers.py`` checks it from the import graph):

    core -> io -> kb -> kb_adapters (plug-ins) -> documents -> models -> index
         -> retrieval -> reading -> linking -> evaluation -> training
         -> adaptation | serving | distributed (peers, never importing each other) -> cli
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_PUBLIC = {
    "EntQAError": "entqa_kit.core.errors",
    "Entity": "entqa_kit.core.records",
    "Document": "entqa_kit.core.records",
    "Mention": "entqa_kit.core.records",
    "LinkedDocument": "entqa_kit.core.records",
    "LinkedSpan": "entqa_kit.core.records",
    "SearchHit": "entqa_kit.core.records",
    "build_index": "entqa_kit.index.build",
    "resolve_entity_encoder": "entqa_kit.index.settings",
    "DenseIndex": "entqa_kit.index.dense",
    "search_index": "entqa_kit.index.search",
    "KnowledgeBase": "entqa_kit.kb.store",
    "load_documents": "entqa_kit.documents",
    "Linker": "entqa_kit.linking.linker",
    "link_inputs": "entqa_kit.linking.run",
    "evaluate_linking": "entqa_kit.evaluation.linking",
    "evaluate_retriever": "entqa_kit.evaluation.retriever",
    "evaluate": "entqa_kit.evaluation.evaluate_run",
    "calibrate": "entqa_kit.evaluation.calibrate_run",
    "train": "entqa_kit.training.run",
    "load_recipe": "entqa_kit.training.recipes",
    "export_model": "entqa_kit.models.export",
    "default_model_dir": "entqa_kit.models.default",
}

__all__ = ["__version__", *_PUBLIC]

if TYPE_CHECKING:  # pragma: no cover
    from entqa_kit.core.errors import EntQAError  # noqa: F401
    from entqa_kit.index.build import build_index  # noqa: F401
    from entqa_kit.linking.linker import Linker  # noqa: F401


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'entqa_kit' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
