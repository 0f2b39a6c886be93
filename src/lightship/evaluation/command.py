"""``lightship evaluate``: a trained checkpoint on one data split -> metrics, pictures and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from rich.console import Console

from lightship.data import DataConfig, LabeledImages, load_split
from lightship.errors import DataError
from lightship.evaluation.metrics import compute_metrics, confident_mistakes
from lightship.evaluation.plots import plot_confusion_matrix, plot_image_grid, plot_reliability
from lightship.evaluation.predict import predict_logits
from lightship.evaluation.report import (
    CONFUSION_PNG,
    MISTAKES_PNG,
    RELIABILITY_PNG,
    REPORT_JSON,
    REPORT_MD,
    report_dict,
    write_markdown,
    write_report_json,
)
from lightship.models import ModelMeta
from lightship.training.checkpoint import TrainedModel, load_trained

#: Wrong predictions shown in the gallery, and its columns.
GALLERY_SIZE = 16
GALLERY_COLUMNS = 8
#: Class names longer than this are cut in gallery captions so neighbouring captions do not overlap.
CAPTION_CHARS = 18


def default_report_dir(trained: TrainedModel, split: str) -> Path:
    return trained.home / f"report-{split}"


def _check_classes(split: LabeledImages, meta: ModelMeta, config: DataConfig) -> None:
    """Labels are indices: evaluating on data whose class list differs would silently score garbage."""
    if list(split.class_names) != list(meta.class_names):
        raise DataError(
            f"the data ({config.source}, root {config.root}) has classes {split.class_names}, but the model "
            f"was trained on {meta.class_names}; evaluate on data with the same class folders."
        )
    if len(split.labels) == 0:
        raise DataError(
            f"the split has no images ({config.source}, root {config.root}); nothing to evaluate."
        )


def _short(name: str) -> str:
    return name if len(name) <= CAPTION_CHARS else name[: CAPTION_CHARS - 1] + "…"


def _plot_mistakes(logits: torch.Tensor, split: LabeledImages, class_names: list[str], path: Path) -> None:
    indices = confident_mistakes(logits, split.labels, GALLERY_SIZE)
    confidence, predicted = logits.softmax(dim=1).max(dim=1)
    captions = [
        f"true: {_short(class_names[int(split.labels[i])])}\n"
        f"pred: {_short(class_names[int(predicted[i])])} ({confidence[i]:.2f})"
        for i in indices
    ]
    plot_image_grid(
        [split.images[i].numpy() for i in indices],
        captions,
        path,
        GALLERY_COLUMNS,
        f"Most confident mistakes ({len(indices)} shown)",
        caption_colors=["darkred"] * len(indices),
    )


def evaluate(
    run_or_ckpt: str | Path | TrainedModel,
    data: DataConfig | None = None,
    split: str = "test",
    tta: int = 0,
    out: Path | None = None,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Score a checkpoint on a split and write ``report.json``, ``report.md`` and three PNGs into ``out``.

    ``run_or_ckpt`` is a run folder, a ``.ckpt`` file or a model already loaded with ``load_trained``.
    ``out`` defaults to ``report-<split>`` in the run folder (or beside a loose checkpoint), so reports
    stay with the model they describe. Returns the report as written to ``report.json``.
    """
    trained = run_or_ckpt if isinstance(run_or_ckpt, TrainedModel) else load_trained(run_or_ckpt)
    model, meta = trained.classifier, trained.meta
    out = Path(out) if out is not None else default_report_dir(trained, split)
    config = trained.require_data_config(data)
    images = load_split(config, split)
    _check_classes(images, meta, config)
    logits = predict_logits(model, images.images, tta=tta, batch_size=batch_size)
    metrics = compute_metrics(logits, images.labels, meta.class_names)

    out.mkdir(parents=True, exist_ok=True)
    plot_confusion_matrix(metrics.confusion_matrix, meta.class_names, out / CONFUSION_PNG)
    plot_reliability(metrics.calibration_bins, metrics.ece, out / RELIABILITY_PNG)
    _plot_mistakes(logits, images, meta.class_names, out / MISTAKES_PNG)
    report = report_dict(
        metrics,
        meta.class_names,
        checkpoint=str(trained.checkpoint),
        split=split,
        tta=tta,
        num_images=len(images.labels),
        data={"source": config.source, "root": None if config.root is None else str(config.root)},
        skipped_files=[str(bad) for bad in images.bad_files],
    )
    write_markdown(report, out)
    write_report_json(report, out)  # last: its presence means the report folder is complete
    return report


def evaluate_command(
    run: Path,
    data: DataConfig | None = None,
    split: Literal["train", "val", "test"] = "test",
    tta: Literal[0, 1, 2] = 0,
    out: Path | None = None,
    batch_size: int = 256,
) -> int:
    """Evaluate a trained model on a data split and write a report with metrics and pictures.

    Args:
        run: Run folder written by `lightship train` (its checkpoints/best.ckpt, else last.ckpt) or a
            .ckpt file.
        data: Data to evaluate on. Default: the run's config.yaml data section; fields given here (e.g.
            --data.root) override it, so the same model can be scored on a new folder of images.
        split: Which split of the data to score.
        tta: Test-time augmentation: 0 none, 1 mirror, 2 mirror + 1-pixel translations (as in training).
        out: Report folder, created if needed: report.json, report.md, confusion_matrix.png,
            reliability.png, confident_mistakes.png. Default: RUN/report-SPLIT.
        batch_size: Images per forward pass.

    Returns:
        0 when the report was written.
    """
    trained = load_trained(run)
    out = out if out is not None else default_report_dir(trained, split)
    report = evaluate(trained, data=data, split=split, tta=tta, out=out, batch_size=batch_size)
    top5 = "n/a" if report["top5"] is None else f"{100 * report['top5']:.2f}%"
    Console().print(
        f"[bold green]done[/] {report['num_images']} {split} images: top-1 {100 * report['top1']:.2f}%, "
        f"top-5 {top5}, ECE {report['ece']:.3f}\n"
        f"  report: {out / REPORT_MD} and {out / REPORT_JSON}"
    )
    return 0
