"""``summary.json``: what a run says about itself, with the split and checkpoint behind every figure.

A first run on a small folder must never mislead: the final figures name the split they were measured on
(test, or val for a train/ + val/ layout), ``best.ckpt`` says whether validation chose it, and only files
that exist are listed.
"""

from __future__ import annotations

from typing import Any

import lightning as L

from lightship import __version__
from lightship.console import escape
from lightship.data.module import ImageDataModule
from lightship.models import ModelMeta
from lightship.training.runfolder import RunFolder


def final_checkpoint(has_val: bool) -> str:
    """Which weights the final figures come from: the best on validation, or the last epoch's."""
    return "best" if has_val else "last"


def figure_sources(datamodule: ImageDataModule, final_split: str | None, tta: int) -> dict[str, str]:
    """For every accuracy in the summary: the split (and its size) and the weights it was measured with."""
    sizes = {name: datamodule.split_size(name) for name in ("train", "val", "test")}
    checkpoint = final_checkpoint(datamodule.has_val)
    sources: dict[str, str] = {}
    if datamodule.has_val:
        sources["val_acc"] = f"val split ({sizes['val']} images), weights of the last epoch"
        sources["best_val_acc"] = f"val split ({sizes['val']} images), weights of the best epoch (best.ckpt)"
    if final_split is not None:
        weights = (
            "best.ckpt (best val/acc)" if checkpoint == "best" else "the last epoch (best.ckpt = last.ckpt)"
        )
        tta_text = f", test-time augmentation {tta}" if tta else ""
        sources["final.acc"] = f"{final_split} split ({sizes[final_split]} images), {weights}{tta_text}"
        if final_split == "test":
            sources["test_acc"] = sources["final.acc"]
            sources["test_acc_no_tta"] = f"test split ({sizes['test']} images), {weights}, no augmentation"
    sources["train_images_per_second"] = f"train split ({sizes['train']} images), fit loop only"
    return sources


def build_summary(
    *,
    trainer: L.Trainer,
    datamodule: ImageDataModule,
    meta: ModelMeta,
    run: RunFolder,
    tta: int,
    final_metrics: dict[str, float],
    final_split: str | None,
    val_acc: float | None,
    best_val_acc: float | None,
    timing: dict[str, float],
    start: str,
    notes: list[str],
    data_source: str,
    weights: str | None,
) -> dict[str, Any]:
    """The summary of a finished fit (and final evaluation)."""
    has_val = datamodule.has_val
    final: dict[str, Any] = {"split": final_split}
    if final_split is None:
        final["note"] = (
            "no validation or test images: nothing was held out, so there is no accuracy to report"
        )
    else:
        final.update(
            images=datamodule.split_size(final_split),
            checkpoint=final_checkpoint(has_val),
            acc=scalar(final_metrics.get("test/acc")),
            acc_no_tta=scalar(final_metrics.get("test/acc_no_tta")),
            tta=tta,
        )
    on_test = final_split == "test"
    return {
        "lightship_version": __version__,
        "model": meta.model,
        "num_classes": meta.num_classes,
        "class_names": meta.class_names,
        "image_size": meta.image_size,
        "data_source": data_source,
        "resize": meta.resize,
        "start": start,
        "pretrained": meta.pretrained,
        "final": final,
        "test_acc": final["acc"] if on_test else None,
        "test_acc_no_tta": final["acc_no_tta"] if on_test else None,
        "tta": tta,
        "val_acc": val_acc,
        "best_val_acc": best_val_acc,
        "best_checkpoint": "highest val/acc"
        if has_val
        else "the last epoch's: there are no validation images to choose by",
        "figure_sources": figure_sources(datamodule, final_split, tta),
        "split_sizes": {name: datamodule.split_size(name) for name in ("train", "val", "test")},
        "batch_size": datamodule.config.batch_size,
        "epochs": epochs_trained(trainer),
        "global_step": trainer.global_step,
        **timing,
        "precision": str(trainer.precision),
        "accelerator": type(trainer.accelerator).__name__.replace("Accelerator", "").lower(),
        "devices": trainer.num_devices,
        "num_nodes": trainer.num_nodes,
        "data_mode": datamodule.mode,
        "skipped_files": [str(b.path) for b in datamodule.bad_files],
        "interrupted": trainer.interrupted,
        "notes": notes,
        "weights": weights,
        "checkpoints": run.existing_checkpoints(),
    }


def describe(summary: dict[str, Any], summary_file: str) -> str:
    """The few lines ``lightship train`` prints at the end (Rich markup)."""
    final = summary["final"]
    if final["split"] is None:
        result = f"  {final['note']}"
    else:
        tta = f" (no TTA {_pct(final['acc_no_tta'])})" if summary["tta"] else ""
        result = (
            f"  {final['split']} accuracy {_pct(final['acc'])}{tta} on {final['images']} images "
            f"({final['checkpoint']} checkpoint)"
        )
        if final["split"] == "test" and summary["val_acc"] is not None:
            result += f", val accuracy {_pct(summary['val_acc'])}"
    checkpoints = ", ".join(escape(p) for p in summary["checkpoints"].values()) or "none written"
    lines = [
        result,
        f"  {escape(summary['start'])}",
        f"  {summary['epochs']:g} epochs, {summary['global_step']} steps, "
        f"{summary['train_images_per_second']:.0f} images/s, wall {summary['wall_seconds']:.1f} s",
        *(f"  note: {escape(note)}" for note in summary["notes"]),
        f"  checkpoints: {checkpoints}",
        f"  summary: {summary_file}",
    ]
    return "\n".join(lines)


def epochs_trained(trainer: L.Trainer) -> float:
    """Epochs as a number of passes: 10.5 for a run that ``--trainer.max_steps`` stopped mid-epoch (Lightning's
    ``current_epoch`` would say 11)."""
    import math

    batches = trainer.num_training_batches
    if not math.isfinite(batches) or batches <= 0:
        return trainer.current_epoch
    steps_per_epoch = math.ceil(batches / trainer.accumulate_grad_batches)
    return round(trainer.global_step / steps_per_epoch, 2)


def scalar(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"
