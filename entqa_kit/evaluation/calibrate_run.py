"""Calibrate a model's span threshold γ on labelled data: link once at a floor, keep the best F1.

``calibrate("dev.jsonl", index_dir="idx", model_dir="model")`` is what ``entqa-kit calibrate``
runs; with ``write=True`` the best γ and a :class:`CalibrationRecord` are saved in the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entqa_kit.core.config import CalibrationRecord
from entqa_kit.core.errors import EntQAError
from entqa_kit.evaluation.calibration import ThresholdPoint, best_point, plot_curve, threshold_curve
from entqa_kit.evaluation.linking import labelled_predictions
from entqa_kit.evaluation.post_processed_curve import post_processed_curve
from entqa_kit.evaluation.scoring import OutOfKb, check_out_of_kb, ranked_outcomes

FALLBACK_CHOICES = ("model", "on", "off", "auto")


@dataclass(frozen=True)
class CalibrationResult:
    """The best point, the whole curve, and what was written where."""

    record: CalibrationRecord
    best: ThresholdPoint
    points: list[ThresholdPoint]
    model_dir: Path
    plot: Path | None
    written: bool

    def as_json(self) -> dict:
        return self.record.model_dump() | {
            "plot": str(self.plot) if self.plot else None,
            "written": self.written,
            "curve": [vars(p) for p in self.points],
        }


def calibrate(
    data: str | Path,
    *,
    index_dir: str | Path,
    model_dir: str | Path | None = None,
    predictions: str | Path | None = None,
    data_format: str | None = None,
    split: str | None = None,
    floor: float = 0.001,
    write: bool = True,
    plot: str | Path | None = None,
    quiet: bool = False,
    write_default: bool = False,
    name_fallback: str = "model",
    out_of_kb: OutOfKb = "ignore",
) -> CalibrationResult:
    """Score every effective γ ≥ ``floor`` on ``data`` (paper, Appendix A) and keep the best.

    ``predictions``: sweep this predictions JSONL (linked at γ ≤ floor) instead of linking.
    ``plot``: PNG of P/R/F1 against γ; by default ``MODEL/calibration.png`` when writing, none otherwise.
    Writing into the shipped default model (inside the installed package) needs ``write_default``.
    ``name_fallback``: ``model`` (the model's ``link.name_fallback``), ``on``, ``off``, or ``auto`` (both
    curves from the same linking run; the better best F1 wins, and the choice is saved with γ).
    ``out_of_kb``: ``ignore`` (GERBIL InKB) or ``wrong``: a link on a gold mention whose entity is not
    in the KB counts as a false positive, so γ rises until a narrow KB stops forcing links.
    """
    from entqa_kit.core.config import LinkConfig
    from entqa_kit.models.default import is_shipped_default, model_or_default
    from entqa_kit.models.model_dir import read_model_config, write_model_dir

    data, model = Path(data), Path(model_or_default(model_dir))
    if write and not write_default and is_shipped_default(model):
        raise EntQAError("E092", path=model)
    config = read_model_config(model)
    if config.reader is None:
        raise EntQAError("E042", path=model)
    if name_fallback not in FALLBACK_CHOICES:
        expected = ", ".join(FALLBACK_CHOICES)
        raise EntQAError("E041", what="--name-fallback", expected=expected, value=name_fallback)
    check_out_of_kb(out_of_kb)
    saved = config.link or LinkConfig()
    fallback = {"model": saved.name_fallback, "on": True, "off": False}.get(name_fallback, True)
    added = fallback or saved.abbreviations  # spans added after the reader: filled in per γ below
    run = labelled_predictions(
        data,
        Path(index_dir),
        str(model),
        Path(predictions) if predictions else None,
        data_format,
        split,
        quiet,
        threshold=floor,
        link_overrides={"name_fallback": False, "abbreviations": False} if added else None,
    )
    documents = run.documents.documents
    if added and run.linker is not None:
        linker = run.linker

        def curve(with_names: bool) -> list[ThresholdPoint]:
            def post(document, kept, cut):
                return linker.post_process(document, kept, cut, with_names, saved.abbreviations)

            return post_processed_curve(documents, run.predictions, post, floor, out_of_kb=out_of_kb)

        points = curve(fallback)
        if name_fallback == "auto":
            plain = curve(False)
            if plain and points and best_point(plain).f1 >= best_point(points).f1:
                fallback, points = False, plain
    else:  # nothing added, or --predictions (already linked as they are)
        points = threshold_curve(ranked_outcomes(documents, run.predictions, out_of_kb), floor)
    if not points:
        raise EntQAError("E063", data=data, floor=floor)
    best = best_point(points)
    record = CalibrationRecord(
        data=data.name,
        split=split,
        num_docs=len(run.documents.documents),
        floor=floor,
        threshold=best.threshold,
        precision=best.precision,
        recall=best.recall,
        f1=best.f1,
        previous_threshold=(config.link or LinkConfig()).threshold,
        name_fallback=fallback,
        out_of_kb=out_of_kb,
    )
    plot_path = Path(plot) if plot else (model / "calibration.png" if write else None)
    if plot_path is not None:
        plot_curve(points, best, plot_path, f"γ calibration on {data.name}{f' ({split})' if split else ''}")
    if write:
        update = {"threshold": best.threshold, "name_fallback": fallback}
        config.link = (config.link or LinkConfig()).model_copy(update=update)
        config.calibration = record
        write_model_dir(model, config)
    return CalibrationResult(record, best, points, model, plot_path, write)
