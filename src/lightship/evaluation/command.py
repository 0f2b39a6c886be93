"""``lightship evaluate``: a trained checkpoint on one data split -> metrics, pictures and a report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import torch

from lightship.bundle.integrity import MANIFEST_NAME
from lightship.console import console, escape
from lightship.data import DataConfig, LabeledImages, load_split
from lightship.data.detect import resolve_source
from lightship.errors import DataError, check_at_least
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
from lightship.runtime import load
from lightship.runtime.backends import RuntimeChoice
from lightship.training.calibration import expected_calibration_error
from lightship.training.checkpoint import TrainedModel, load_trained

#: Wrong predictions shown in the gallery, and its columns.
GALLERY_SIZE = 16
GALLERY_COLUMNS = 8
#: Class names longer than this are cut in gallery captions so neighbouring captions do not overlap.
CAPTION_CHARS = 18
#: Images decoded at a time when scoring a bundle on files at their own sizes.
CHUNK = 256


def default_report_dir(trained: TrainedModel, split: str) -> Path:
    return trained.home / f"report-{split}"


def _check_classes(split: LabeledImages, class_names: list[str], config: DataConfig) -> None:
    """Labels are indices: evaluating on data whose class list differs would silently score garbage."""
    if list(split.class_names) != list(class_names):
        raise DataError(
            f"the data ({config.source}, root {config.root}) has classes {split.class_names}, but the model "
            f"was trained on {class_names}; evaluate on data with the same class folders."
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


def _write_report(
    logits: torch.Tensor,
    temperature: float,
    images: LabeledImages,
    class_names: list[str],
    out: Path,
    **context: Any,
) -> dict[str, Any]:
    """Metrics of ``logits / temperature`` (the scores users see), ECE before and after the temperature,
    the three pictures and report.json/report.md in ``out``: one writer for runs and bundles alike."""
    scores = logits / temperature
    metrics = compute_metrics(scores, images.labels, class_names)
    raw_ece = expected_calibration_error(logits.float().softmax(1), images.labels)
    out.mkdir(parents=True, exist_ok=True)
    plot_confusion_matrix(metrics.confusion_matrix, class_names, out / CONFUSION_PNG)
    plot_reliability(metrics.calibration_bins, metrics.ece, out / RELIABILITY_PNG)
    _plot_mistakes(scores, images, class_names, out / MISTAKES_PNG)
    calibration = dict(context.pop("calibration"))
    calibration |= {"temperature": temperature, "ece_before": round(raw_ece, 6), "ece_after": metrics.ece}
    report = report_dict(
        metrics,
        class_names,
        **context,
        calibration=calibration,
        num_images=len(images.labels),
        skipped_files=[str(bad) for bad in images.bad_files],
    )
    write_markdown(report, out)
    write_report_json(report, out)  # last: its presence means the report folder is complete
    return report


def evaluate(
    run_or_ckpt: str | Path | TrainedModel,
    data: DataConfig | None = None,
    split: str = "test",
    tta: int = 0,
    out: Path | None = None,
    batch_size: int = 256,
    calibrate: bool = True,
) -> dict[str, Any]:
    """Score a checkpoint on a split and write ``report.json``, ``report.md`` and three PNGs into ``out``.

    ``run_or_ckpt`` is a run folder, a ``.ckpt`` file or a model already loaded with ``load_trained``.
    ``out`` defaults to ``report-<split>`` in the run folder (or beside a loose checkpoint), so reports
    stay with the model they describe. Scores carry the run's temperature (as its bundle does) unless
    ``calibrate`` is False. Returns the report as written to ``report.json``.
    """
    trained = (
        run_or_ckpt
        if isinstance(run_or_ckpt, TrainedModel)
        else load_trained(run_or_ckpt, calibrate=calibrate)
    )
    model, meta = trained.classifier, trained.meta
    out = Path(out) if out is not None else default_report_dir(trained, split)
    config = resolve_source(trained.require_data_config(data))  # the report names the source read
    images = load_split(config, split)
    _check_classes(images, meta.class_names, config)
    logits = predict_logits(model, images.images, tta=tta, batch_size=batch_size)
    return _write_report(
        logits,
        model.temperature,
        images,
        meta.class_names,
        out,
        checkpoint=str(trained.checkpoint),
        split=split,
        tta=tta,
        data={"source": config.source, "root": None if config.root is None else str(config.root)},
        calibration=trained.calibration.to_dict(),
    )


def evaluate_bundle(
    bundle: str | Path,
    data: DataConfig,
    split: str = "test",
    out: Path | None = None,
    runtime: str = "auto",
    threads: int | None = None,
    allow_unverified: bool = False,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Score what ships: the bundle's artifact (in ``runtime``) on a labelled split of ``data``, each image at
    its own size (the artifact resizes it, as for a user), with the same report as for a run.

    ``out`` defaults to ``BUNDLE/report-<split>-<format>``.
    """
    predictor = load(bundle, runtime=runtime, threads=threads, allow_unverified=allow_unverified)
    manifest = predictor.manifest
    out = Path(out) if out is not None else Path(bundle) / f"report-{split}-{predictor.format}"
    config = resolve_source(
        replace(
            data,
            image_size=int(manifest["input"]["image_size"]),
            resize=manifest["input"].get("resize_mode", "squash"),
        )
    )
    images = load_split(config, split)
    _check_classes(images, list(manifest["labels"]), config)
    logits = []
    for start in range(0, len(images.labels), CHUNK):
        rows = range(start, min(start + CHUNK, len(images.labels)))
        originals = [images.original(i) for i in rows]
        batch = [
            o if o is not None else images.images[i].numpy() for o, i in zip(originals, rows, strict=True)
        ]
        logits.append(torch.from_numpy(predictor.predict_scores(batch, batch_size)[1]))
    calibration = manifest.get("calibration") or {"temperature": 1.0, "fitted": False}
    return _write_report(
        torch.cat(logits),
        float(calibration.get("temperature", 1.0)),
        images,
        list(manifest["labels"]),
        out,
        bundle=str(bundle),
        artifact={
            "format": predictor.format,
            "runtime": predictor.runtime,
            "unverified": predictor.unverified,
        },
        split=split,
        tta=0,
        data={"source": config.source, "root": None if config.root is None else str(config.root)},
        calibration={k: v for k, v in calibration.items() if not k.startswith("test_")},
    )


def evaluate_command(
    run: Path,
    data: DataConfig | None = None,
    split: Literal["train", "val", "test"] = "test",
    tta: Literal[0, 1, 2] = 0,
    out: Path | None = None,
    batch_size: int = 256,
    calibrate: bool = True,
    runtime: RuntimeChoice = "auto",
    threads: int | None = None,
    allow_unverified: bool = False,
) -> int:
    """Evaluate a trained model, or the artifact a bundle ships, on a data split and write a report with
    metrics and pictures.

    Args:
        run: Run folder written by `lightship train` (its checkpoints/best.ckpt, else last.ckpt), a .ckpt
            file, or a bundle folder written by `lightship export` (then --data is required: a bundle does
            not record where its data lives).
        data: Data to evaluate on. Default: the run's config.yaml data section; fields given here (e.g.
            --data.root) override it, so the same model can be scored on a new folder of images.
        split: Which split of the data to score.
        tta: Test-time augmentation (runs only): 0 none, 1 mirror, 2 mirror + 1-pixel translations.
        out: Report folder, created if needed: report.json, report.md, confusion_matrix.png,
            reliability.png, confident_mistakes.png. Default: RUN/report-SPLIT (BUNDLE/report-SPLIT-FORMAT).
        batch_size: Images per forward pass.
        calibrate: Runs: apply the run's temperature (fitted on its validation split, as its bundle does);
            false scores the raw softmax. Bundles always score what their artifact computes.
        runtime: Bundles: the runtime whose artifact to score (auto: the bundle's preferred verified one).
        threads: Bundles: CPU threads of the runtime.
        allow_unverified: Bundles: score an artifact that failed or lacks verification.

    Returns:
        0 when the report was written.
    """
    check_at_least(1, batch_size=batch_size)
    if (Path(run) / MANIFEST_NAME).is_file():
        if data is None:
            raise DataError(
                f"{run} is a bundle, which does not record where its data lives: pass the labelled data, e.g. "
                "--data.root FOLDER"
            )
        if tta:
            raise DataError("--tta applies to runs only: a bundle's artifact has no test-time augmentation")
        report = evaluate_bundle(run, data, split, out, runtime, threads, allow_unverified)
        out = (
            Path(report["bundle"]) / f"report-{split}-{report['artifact']['format']}" if out is None else out
        )
    else:
        trained = load_trained(run, calibrate=calibrate)
        out = out if out is not None else default_report_dir(trained, split)
        report = evaluate(trained, data=data, split=split, tta=tta, out=out, batch_size=batch_size)
    top5 = "n/a" if report["top5"] is None else f"{100 * report['top5']:.2f}%"
    cal = report["calibration"]
    console().print(
        f"[bold green]done[/] {report['num_images']} {split} images: top-1 {100 * report['top1']:.2f}%, "
        f"top-5 {top5}, ECE {cal['ece_after']:.3f} (temperature {cal['temperature']:.3g}; raw softmax "
        f"{cal['ece_before']:.3f})\n"
        f"  report: {escape(out / REPORT_MD)} and {escape(out / REPORT_JSON)}",
        highlight=False,
    )
    return 0
