"""A self-contained HTML page of linked documents: mentions highlighted, each linked to its entity.

Hovering (or focusing) a mention shows the entity's title, id, score and description; the
mention links to the entity's entry in the list at the end of the page. No scripts, no
external assets, so the page opens anywhere, offline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from entqa_kit.core.atomic import write_text_atomic
from entqa_kit.core.records import Document, Entity, LinkedDocument

STYLE = """
body { font: 16px/1.6 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d1d1f; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; color: #444; }
p.meta { color: #666; font-size: 0.9rem; }
article p { white-space: pre-wrap; }
a.mention { position: relative; color: inherit; text-decoration: none; border-radius: 3px;
            padding: 0 2px; border-bottom: 2px solid #2f6fdf; }
a.mention.high { background: #cfe0ff; } a.mention.mid { background: #e3edff; }
a.mention.low { background: #f1f5ff; border-bottom-style: dashed; }
a.mention .tip { display: none; position: absolute; left: 0; top: 1.7em; z-index: 2; width: 22rem;
                 background: #fff; border: 1px solid #bbb; border-radius: 6px; padding: 0.5rem 0.7rem;
                 box-shadow: 0 4px 14px rgba(0, 0, 0, 0.15); font-size: 0.85rem; line-height: 1.4; }
a.mention:hover .tip, a.mention:focus .tip { display: block; }
.tip b { display: block; } .tip code, dt code { color: #666; } .tip .score { float: right; color: #2f6fdf; }
dl dt { font-weight: 600; margin-top: 0.6rem; } dl dd { margin-left: 1rem; color: #333; }
"""


UNKNOWN_THRESHOLD = 0.125
"""Used when no γ is given: its bands are 0.5 and 0.25."""


def band_limits(threshold: float | None) -> tuple[float, float]:
    """The lowest ``high`` and ``mid`` scores for a model whose span threshold is ``threshold`` (γ).

    Scores run from γ (kept at all) to 1; on a log scale the top third is ``high`` (score ≥ γ^(1/3))
    and the middle third ``mid`` (score ≥ γ^(2/3)). For the default model (γ = 0.0043): 0.163 and 0.026.
    """
    gamma = threshold if threshold is not None and 0.0 < threshold < 1.0 else UNKNOWN_THRESHOLD
    return gamma ** (1 / 3), gamma ** (2 / 3)


def _band(score: float, limits: tuple[float, float]) -> str:
    high, mid = limits
    return "high" if score >= high else "mid" if score >= mid else "low"


def _anchor(entity_id: str) -> str:
    """An HTML id for an entity id, one-to-one: ASCII letters, digits and ``-`` are kept and every
    other character becomes ``_<hex code>_`` (``MESH:D1`` -> ``MESH_3a_D1``, ``MESH_D1`` -> ``MESH_5f_D1``).
    """
    return "entity-" + "".join(
        c if c.isascii() and (c.isalnum() or c == "-") else f"_{ord(c):x}_" for c in entity_id
    )


def _highlighted(
    document: Document,
    linked: LinkedDocument,
    entities: Mapping[str, Entity],
    limits: tuple[float, float],
) -> str:
    parts, cursor = [], 0
    for mention in sorted(linked.mentions, key=lambda m: m.start):
        if mention.start < cursor:
            continue  # overlapping spans (only with --allow-overlaps): show the first
        entity = entities.get(mention.entity)
        description = entity.description if entity else ""
        parts.append(escape(document.text[cursor : mention.start]))
        parts.append(
            f'<a class="mention {_band(mention.score, limits)}" href="#{_anchor(mention.entity)}" '
            f'data-entity="{escape(mention.entity)}" data-score="{mention.score:.3f}" '
            f'title="{escape(mention.title)}: {escape(description)}">'
            f"{escape(document.text[mention.start : mention.end])}"
            f'<span class="tip"><span class="score">{mention.score:.2f}</span>'
            f"<b>{escape(mention.title)}</b><code>{escape(mention.entity)}</code><br>{escape(description)}"
            "</span></a>"
        )
        cursor = mention.end
    parts.append(escape(document.text[cursor:]))
    return "".join(parts)


def render_html(
    documents: Sequence[Document],
    linked: Sequence[LinkedDocument],
    entities: Mapping[str, Entity],
    title: str = "entqa-kit: linked documents",
    subtitle: str = "",
    threshold: float | None = None,
    reader_kind: str = "joint",
) -> str:
    """The page: one section per document, then every linked entity with its description.

    ``threshold`` is the model's γ: mention shades (high, mid, low) are set relative to it
    (see :func:`band_limits`), since a score is kept only above γ. ``reader_kind`` ("joint" or
    "pair") names what a score is in the legend.
    """
    limits = band_limits(threshold)
    sections = []
    for document, result in zip(documents, linked):
        sections.append(
            f'<article id="doc-{escape(document.id)}"><h2>{escape(document.id)} '
            f"<small>({len(result.mentions)} mentions)</small></h2>"
            f"<p>{_highlighted(document, result, entities, limits)}</p></article>"
        )
    used = sorted({m.entity for result in linked for m in result.mentions})
    items = []
    for entity_id in used:
        entity = entities.get(entity_id)
        name = escape(entity.title if entity else entity_id)
        description = escape(entity.description if entity else "")
        term = f'<dt id="{_anchor(entity_id)}">{name} <code>{escape(entity_id)}</code></dt>'
        items.append(f"{term}<dd>{description}</dd>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="meta">{escape(subtitle)}</p>'
        f'<p class="meta">{escape(_legend(threshold, limits, reader_kind))}</p>'
        + "".join(sections)
        + f"<h2>Entities ({len(used)})</h2><dl>"
        + "".join(items)
        + "</dl></body></html>\n"
    )


SCORE_FORMULAS = {"joint": "p_start × p_end × p_entity", "pair": "p_rerank × p_span"}


def _legend(threshold: float | None, limits: tuple[float, float], reader_kind: str) -> str:
    formula = SCORE_FORMULAS.get(reader_kind, "the reader's probability")
    kept = f"kept when above the model's threshold γ = {threshold:.3g}" if threshold is not None else "kept"
    return (
        f"Score = {formula}, {kept}. Shade: dark ≥ {limits[0]:.3g}, "
        f"medium ≥ {limits[1]:.3g}, light (dashed) below."
    )


def write_html(path: Path, page: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, page)
