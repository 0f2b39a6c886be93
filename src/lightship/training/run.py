"""``lightship.train``: one call from a config to a run folder (contract 1 between training and the rest;
its layout is :mod:`lightship.training.runfolder`'s)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import TensorBoardLogger

from lightship import __version__
from lightship.data.module import ImageDataModule
from lightship.errors import CheckpointError, LightshipError
from lightship.models import ModelMeta
from lightship.models.registry import load_pretrained
from lightship.training.callbacks import ImagesPerSecond, Lookahead
from lightship.training.checkpoint import checkpoint_meta, load_trained, read_checkpoint
from lightship.training.checkpoint_io import AtomicCheckpointIO
from lightship.training.config import TrainConfig
from lightship.training.loggers import AppendingCSVLogger
from lightship.training.module import ClassifierModule
from lightship.training.runfolder import BEST, TENSORBOARD_DIR, RunFolder


@dataclass
class RunResult:
    """What :func:`train` returns: where the run folder is and what it says."""

    run_dir: Path
    summary: dict[str, Any]


def _check_resume_compatible(ckpt_path: Path, meta: ModelMeta) -> None:
    old = checkpoint_meta(read_checkpoint(ckpt_path), ckpt_path)
    mine = (meta.model, meta.num_classes, meta.class_names, meta.image_size)
    theirs = (old.model, old.num_classes, old.class_names, old.image_size)
    if mine != theirs:
        raise CheckpointError(
            f"{ckpt_path} holds model {old.model!r} ({old.num_classes} classes, {old.image_size}px), but this config "
            f"builds {meta.model!r} ({meta.num_classes} classes, {meta.image_size}px); resume with the run's own "
            "config.yaml or start a new run with --out"
        )


def prepare(config: TrainConfig) -> tuple[ImageDataModule, ModelMeta, ClassifierModule]:
    """Data module (set up), model description and a freshly initialised module for ``config``.

    Fresh means: local weights loaded when configured, then data-dependent initialisation (airbench's
    whitening) from training images. A resumed run overwrites all of it from its checkpoint.
    """
    datamodule = ImageDataModule(config.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    meta = ModelMeta(
        model=config.model.name,
        num_classes=datamodule.num_classes,
        class_names=list(datamodule.class_names),
        image_size=config.data.image_size,
        mean=list(datamodule.mean),
        std=list(datamodule.std),
        model_kwargs=dict(config.model.kwargs),
    )
    module = ClassifierModule.create(meta, config.optim, tta=config.tta)
    if config.model.weights:
        load_pretrained(module.model.net, Path(config.model.weights))
    module.data_init(datamodule.sample_train_images(5000))
    return datamodule, meta, module


def train(config: TrainConfig, resume: Path | None = None, callbacks: Sequence[L.Callback] = ()) -> RunResult:
    """Train ``config``; with ``resume=RUN_DIR`` continue that run from its ``checkpoints/last.ckpt``.

    ``callbacks`` are added to lightship's own (checkpointing, lookahead, progress, images/s).
    """
    started = time.perf_counter()
    L.seed_everything(config.seed, workers=True, verbose=False)
    run = RunFolder(Path(resume)) if resume else RunFolder.new(config)
    last_ckpt = run.last
    if resume and not last_ckpt.is_file():
        raise CheckpointError(
            f"cannot resume: {last_ckpt} does not exist (the run stopped before its first epoch "
            "ended); start it again without --resume"
        )

    datamodule, meta, module = prepare(config)
    if resume:
        _check_resume_compatible(last_ckpt, meta)

    run.write_config(config)

    speed = ImagesPerSecond()
    has_val = datamodule.has_val
    all_callbacks: list[L.Callback] = [
        *callbacks,
        ModelCheckpoint(
            dirpath=run.checkpoints,
            filename=BEST,
            monitor="val/acc" if has_val else None,
            mode="max",
            save_last=True,
            save_top_k=1,
            enable_version_counter=False,
        ),
        LearningRateMonitor(logging_interval="epoch"),
        speed,
    ]
    trainer_kwargs = {"precision": "32-true", "max_epochs": 10, **config.trainer}
    if config.optim.optimizer == "muon" and "fsdp" in str(trainer_kwargs.get("strategy", "")).lower():
        raise LightshipError(
            "--optim.optimizer muon orthogonalises whole conv filters, which FSDP shards across devices; use "
            "--trainer.strategy ddp, or an SGD/AdamW recipe with FSDP"
        )
    if trainer_kwargs.get("enable_progress_bar", True):
        all_callbacks.append(RichProgressBar(leave=True))
    if config.optim.lookahead:
        all_callbacks.append(Lookahead(config.optim.lookahead_every))
    try:
        trainer = L.Trainer(
            default_root_dir=run.root,
            callbacks=all_callbacks,
            logger=[
                AppendingCSVLogger(str(run.root)),
                TensorBoardLogger(run.root, name=TENSORBOARD_DIR, version=""),
            ],
            plugins=[AtomicCheckpointIO()],
            **trainer_kwargs,
        )
    except (ValueError, MisconfigurationException) as exc:  # e.g. fsdp without a GPU, devices=3 on 2 GPUs
        raise LightshipError(f"invalid --trainer settings: {exc}") from exc
    fit_started = time.perf_counter()
    if config.model.compile:  # in place: the parameter names (and so checkpoints) stay those of the plain net
        module.model.net.compile()
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last_ckpt) if resume else None)
    train_seconds = time.perf_counter() - fit_started
    val_acc = _scalar(trainer.callback_metrics.get("val/acc"))  # trainer.test replaces callback_metrics
    test_metrics: dict[str, float] = {}
    if datamodule.has_test and not trainer.interrupted:
        ckpt = "best" if has_val and trainer.checkpoint_callback.best_model_path else None
        test_metrics = trainer.test(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False)[0]

    summary = {
        "lightship_version": __version__,
        "model": meta.model,
        "num_classes": meta.num_classes,
        "class_names": meta.class_names,
        "image_size": meta.image_size,
        "test_acc": test_metrics.get("test/acc"),
        "test_acc_no_tta": test_metrics.get("test/acc_no_tta"),
        "tta": config.tta,
        "val_acc": val_acc,
        "best_val_acc": _scalar(trainer.checkpoint_callback.best_model_score),
        "epochs": _epochs_trained(trainer),
        "global_step": trainer.global_step,
        "train_seconds": round(train_seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "train_images_per_second": round(speed.rate, 1),
        "precision": str(trainer.precision),
        "accelerator": type(trainer.accelerator).__name__.replace("Accelerator", "").lower(),
        "devices": trainer.num_devices,
        "num_nodes": trainer.num_nodes,
        "data_mode": datamodule.mode,
        "skipped_files": [str(b.path) for b in datamodule.bad_files],
        "interrupted": trainer.interrupted,
        "checkpoints": {"best": str(run.best), "last": str(run.last)},
    }
    if trainer.is_global_zero:
        run.plot_curves()
        if has_val and not trainer.interrupted:
            # The run's temperature, fitted now on its validation split (RUN/calibration.json): evaluate and
            # export read this one value (lightship.training.calibration).
            calibration = load_trained(run.root).calibration
            summary |= {
                "temperature": calibration.temperature,
                "val_ece_raw": calibration.ece_before,
                "val_ece_calibrated": calibration.ece_after,
            }
        run.write_summary(summary)
    return RunResult(run_dir=run.root, summary=summary)


def _epochs_trained(trainer: L.Trainer) -> float:
    """Epochs as a number of passes: 10.5 for a run that ``--trainer.max_steps`` stopped mid-epoch (Lightning's
    ``current_epoch`` would say 11)."""
    batches = trainer.num_training_batches
    if not math.isfinite(batches) or batches <= 0:
        return trainer.current_epoch
    steps_per_epoch = math.ceil(batches / trainer.accumulate_grad_batches)
    return round(trainer.global_step / steps_per_epoch, 2)


def _scalar(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)
