"""Threshold calibration (paper, Appendix A): F1 at every effective γ, the best one, a plot.

Link once at a low ``floor``; keeping the spans scored above any γ ≥ floor then gives exactly
what linking at γ would give, because span decoding keeps the top-P spans before thresholding
and overlap resolution is greedy by score (a kept span only competes with higher-scored ones).
Every distinct predicted score is therefore one effective threshold, and its P/R/F1 comes
from cumulative sums over the score-sorted outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from entqa_kit.evaluation.scoring import RankedOutcomes


@dataclass(frozen=True)
class ThresholdPoint:
    """Scores (0-100) when keeping spans scored above ``threshold``."""

    threshold: float
    precision: float
    recall: float
    f1: float
    num_pred: int


def threshold_curve(outcomes: RankedOutcomes, floor: float) -> list[ThresholdPoint]:
    """One point per effective threshold, from the highest γ (fewest spans) down to ``floor``.

    The γ reported for keeping every span scored ``>= s`` is the midpoint between ``s`` and the
    next lower distinct score (or ``floor``), so it sits safely inside the interval it stands for.
    """
    scores, correct = outcomes.scores, outcomes.correct
    if len(scores) == 0:
        return []
    true_positives = np.cumsum(correct)
    # Last index of each run of equal scores: keeping "score >= s" keeps the whole run.
    ends = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))
    lower = np.append(scores[ends[1:]], floor)
    points = []
    for end, below in zip(ends, lower):
        kept = int(end) + 1
        tp = int(true_positives[end])
        precision = tp / kept
        recall = tp / outcomes.num_gold if outcomes.num_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        threshold = max(floor, (float(scores[end]) + float(below)) / 2)
        points.append(
            ThresholdPoint(
                threshold, round(100 * precision, 2), round(100 * recall, 2), round(100 * f1, 2), kept
            )
        )
    return points


def best_point(points: list[ThresholdPoint]) -> ThresholdPoint:
    """The highest F1; ties go to the higher threshold (fewer spans, cheaper and more precise)."""
    return max(points, key=lambda p: (p.f1, p.threshold))


def summary_rows(points: list[ThresholdPoint], best: ThresholdPoint, rows: int = 12) -> list[ThresholdPoint]:
    """A readable subset of the curve: evenly spaced thresholds plus the best point, high γ first."""
    if len(points) <= rows:
        return points
    picked = {round(i * (len(points) - 1) / (rows - 1)) for i in range(rows)}
    subset = [points[i] for i in sorted(picked)]
    if best not in subset:
        subset.append(best)
    return sorted(subset, key=lambda p: -p.threshold)


def plot_curve(points: list[ThresholdPoint], best: ThresholdPoint, path: Path, title: str) -> None:
    """Precision, recall and F1 against γ (log scale) as a PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thresholds = [p.threshold for p in points]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    axes.plot(thresholds, [p.f1 for p in points], label="F1", linewidth=2)
    axes.plot(thresholds, [p.precision for p in points], label="precision", linestyle="--")
    axes.plot(thresholds, [p.recall for p in points], label="recall", linestyle=":")
    axes.axvline(best.threshold, color="grey", linewidth=1)
    axes.annotate(
        f"γ={best.threshold:.3g}, F1 {best.f1:.2f}",
        (best.threshold, best.f1),
        textcoords="offset points",
        xytext=(6, -14),
    )
    axes.set_xscale("log")
    axes.set_xlabel("threshold γ (p_rerank × p_span)")
    axes.set_ylabel("InKB micro score (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.png")
    figure.savefig(partial, format="png")
    plt.close(figure)
    partial.replace(path)
