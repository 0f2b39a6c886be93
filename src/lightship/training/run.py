"""``lightship.train``: one call from a config to a run folder (contract 1 between training and the rest;
its layout is :mod:`lightship.training.runfolder`'s)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import TensorBoardLogger

from lightship import __version__
from lightship.console import console, escape
from lightship.data.detect import resolve_source
from lightship.data.module import ImageDataModule
from lightship.data.prepare import validate
from lightship.errors import LightshipError
from lightship.models import Classifier, ModelMeta, default_image_size
from lightship.models.weights import load_weights, read_weights
from lightship.training import extras
from lightship.training.callbacks import ImagesPerSecond, Lookahead
from lightship.training.checkpoint_io import AtomicCheckpointIO
from lightship.training.config import TrainConfig, validate_optim
from lightship.training.loggers import AppendingCSVLogger
from lightship.training.module import ClassifierModule
from lightship.training.ranks import launched_world
from lightship.training.resume import check_compatible, check_unfinished, resume_point
from lightship.training.runfolder import BEST, LAST, TENSORBOARD_DIR, RunFolder


@dataclass
class RunResult:
    """What :func:`train` returns: where the run folder is and what it says."""

    run_dir: Path
    summary: dict[str, Any]


def prepare(config: TrainConfig) -> tuple[ImageDataModule, ModelMeta, ClassifierModule]:
    """Data module (set up), model description and a freshly initialised module for ``config``.

    Fresh means: starting weights loaded when configured (which layers loaded is printed), then
    data-dependent initialisation (airbench's whitening) from training images. A resumed run overwrites
    all of it from its checkpoint.
    """
    data = config.data
    if config.model.weights and data.mean is None and data.std is None:
        source_meta = read_weights(config.model.weights)[2]
        if source_meta:  # the source run's normalisation: its layers learned on inputs scaled that way
            data = replace(data, mean=tuple(source_meta["mean"]), std=tuple(source_meta["std"]))
    datamodule = ImageDataModule(data)
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
    check_input_size(module.model, meta)
    if config.model.weights:
        report = load_weights(module.model.net, config.model.weights)
        if launched_world().rank == 0:
            console(stderr=True).print(escape(report.summary()), highlight=False)
    module.data_init(datamodule.sample_train_images(5000))
    return datamodule, meta, module


def check_input_size(model: Classifier, meta: ModelMeta) -> None:
    """A LightshipError, before any folder is made, when the network cannot take ``image_size`` inputs
    (airbench pools three times, so 8 pixels shrink to nothing)."""
    size = meta.image_size
    pixels = torch.zeros((2, size, size, 3), dtype=torch.uint8)
    try:
        with torch.no_grad():
            model.eval()(pixels)
    except RuntimeError as exc:
        raise LightshipError(
            f"model {meta.model!r} cannot take {size}x{size} images ({str(exc).splitlines()[0]}); use a larger "
            f"--data.image_size (it was designed for {default_image_size(meta.model)})"
        ) from exc
    finally:
        model.train()


def _checkpoints(run: RunFolder, has_val: bool, enabled: bool) -> list[L.Callback]:
    """``best.ckpt`` (highest val/acc; without validation, the latest) and ``last.ckpt`` (every epoch).

    Two callbacks with validation, because Lightning (>= 2.6) writes ``save_last`` only in epochs where the
    best checkpoint improved: last.ckpt would fall epochs behind and ``--resume`` would repeat them.
    """
    if not enabled:
        return []
    common: dict[str, Any] = {"dirpath": run.checkpoints, "save_top_k": 1, "enable_version_counter": False}
    if not has_val:
        return [ModelCheckpoint(filename=BEST, save_last=True, **common)]
    return [
        ModelCheckpoint(filename=BEST, monitor="val/acc", mode="max", **common),
        ModelCheckpoint(filename=LAST, **common),
    ]


class _WriteConfig(L.Callback):
    """``config.yaml``, written by rank 0 when the first epoch starts: after a resumed run's checkpoint
    has loaded, so a resume that fails changes nothing in the run folder."""

    def __init__(self, run: RunFolder, config: TrainConfig) -> None:
        self.run, self.config, self.done = run, config, False

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.done and trainer.is_global_zero:
            self.run.write_config(self.config)
        self.done = True


def train(config: TrainConfig, resume: Path | None = None, callbacks: Sequence[L.Callback] = ()) -> RunResult:
    """Train ``config``; with ``resume=RUN_DIR`` continue that run from its ``checkpoints/last.ckpt``.

    ``callbacks`` are added to lightship's own (checkpointing, lookahead, progress, images/s), as are the
    loggers, callbacks and plugins in ``config.trainer``. Nothing is written before the settings have been
    checked against the data (and, resuming, against the run's checkpoint).
    """
    started = time.perf_counter()
    config = replace(config, data=resolve_source(config.data))
    validate(config.data)
    validate_optim(config.optim)
    point = resume_point(Path(resume)) if resume else None
    trainer_kwargs = {"precision": "32-true", "max_epochs": 10, **config.trainer}
    if point is not None:
        check_unfinished(point, trainer_kwargs.get("max_epochs"), trainer_kwargs.get("max_steps"))
    if config.optim.optimizer == "muon" and "fsdp" in str(trainer_kwargs.get("strategy", "")).lower():
        raise LightshipError(
            "--optim.optimizer muon orthogonalises whole conv filters, which FSDP shards across devices; use "
            "--trainer.strategy ddp, or an SGD/AdamW recipe with FSDP"
        )
    user_callbacks = [*callbacks, *extras.user_callbacks(trainer_kwargs.pop("callbacks", None))]
    loggers = extras.user_loggers(trainer_kwargs.pop("logger", None))
    plugins = extras.user_plugins(trainer_kwargs.pop("plugins", None))
    checkpointing = trainer_kwargs.pop("enable_checkpointing", True) is not False
    trainer_kwargs.pop("default_root_dir", None)  # where numbered run folders go: RunFolder.claim reads it
    L.seed_everything(config.seed, workers=True, verbose=False)

    datamodule, meta, module = prepare(config)
    if point is not None:
        check_compatible(point, meta, config)
    run = point.run if point is not None else RunFolder.claim(config)

    speed = ImagesPerSecond()
    has_val = datamodule.has_val
    checkpoints = _checkpoints(run, has_val, checkpointing)
    all_callbacks: list[L.Callback] = [
        *user_callbacks,
        *checkpoints,
        LearningRateMonitor(logging_interval="epoch"),
        speed,
        _WriteConfig(run, config),
    ]
    if trainer_kwargs.get("enable_progress_bar", True) and not extras.has_progress_bar(user_callbacks):
        all_callbacks.append(RichProgressBar(leave=True))
    if config.optim.lookahead:
        all_callbacks.append(Lookahead(config.optim.lookahead_every))
    try:
        try:
            trainer = L.Trainer(
                default_root_dir=run.root,
                callbacks=all_callbacks,
                logger=[
                    AppendingCSVLogger(str(run.root)),
                    TensorBoardLogger(run.root, name=TENSORBOARD_DIR, version=""),
                    *loggers,
                ],
                plugins=[AtomicCheckpointIO(), *plugins],
                enable_checkpointing=checkpointing,
                **trainer_kwargs,
            )
        except (ValueError, TypeError, MisconfigurationException) as exc:  # fsdp without a GPU, devices=3 ...
            raise LightshipError(f"invalid --trainer settings: {exc}") from exc
        fit_started = time.perf_counter()
        if config.model.compile:  # in place: parameter names (and so checkpoints) stay those of the plain net
            module.model.net.compile()
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(point.checkpoint) if point else None)
    except BaseException as exc:
        if point is None:
            run.release_if_unstarted()
        if isinstance(exc, FloatingPointError):
            raise FloatingPointError(f"{exc} {run.kept_checkpoint_note()}") from exc
        raise
    train_seconds = time.perf_counter() - fit_started
    val_acc = _scalar(trainer.callback_metrics.get("val/acc"))  # trainer.test replaces callback_metrics
    best = checkpoints[0] if checkpoints and has_val else None
    test_metrics: dict[str, float] = {}
    if datamodule.has_test and not trainer.interrupted:
        ckpt = (
            best.best_model_path if best is not None and Path(best.best_model_path or "-").is_file() else None
        )
        test_metrics = trainer.test(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False)[0]

    summary = {
        "lightship_version": __version__,
        "model": meta.model,
        "num_classes": meta.num_classes,
        "class_names": meta.class_names,
        "image_size": meta.image_size,
        "data_source": config.data.source,
        "test_acc": test_metrics.get("test/acc"),
        "test_acc_no_tta": test_metrics.get("test/acc_no_tta"),
        "tta": config.tta,
        "val_acc": val_acc,
        "best_val_acc": _scalar(best.best_model_score if best is not None else None),
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
        "weights": None if config.model.weights is None else str(config.model.weights),
        "checkpoints": run.existing_checkpoints(),
    }
    if trainer.is_global_zero:
        run.plot_curves()
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
