"""``lightship.train``: one call from a config to a run folder (contract 1 between training and the rest;
its layout is :mod:`lightship.training.runfolder`'s)."""

from __future__ import annotations

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

from lightship.console import console, escape
from lightship.data.detect import resolve_source
from lightship.data.module import ImageDataModule
from lightship.data.prepare import validate
from lightship.errors import LightshipError
from lightship.models import Classifier, ModelMeta, default_image_size
from lightship.models.pretrained import head_keys, load_into
from lightship.models.weights import load_weights, read_weights
from lightship.training import extras
from lightship.training.callbacks import ImagesPerSecond, Lookahead
from lightship.training.checkpoint import checkpoint_meta, load_trained
from lightship.training.checkpoint_io import AtomicCheckpointIO
from lightship.training.config import TrainConfig, validate_optim
from lightship.training.loggers import AppendingCSVLogger
from lightship.training.module import ClassifierModule
from lightship.training.ranks import launched_world
from lightship.training.resume import check_compatible, check_unfinished, resume_point
from lightship.training.runfolder import BEST, LAST, TENSORBOARD_DIR, RunFolder
from lightship.training.start import Start, describe_weights, model_kwargs, resolve_start
from lightship.training.summary import build_summary, scalar


@dataclass
class RunResult:
    """What :func:`train` returns: where the run folder is and what it says."""

    run_dir: Path
    summary: dict[str, Any]


@dataclass
class Prepared:
    """Everything a fit needs: the set-up data, the model description, the fresh module, and how it started
    (the resolved config and the sentences the run records)."""

    datamodule: ImageDataModule
    meta: ModelMeta
    module: ClassifierModule
    start: Start


def prepare(config: TrainConfig, resumed: ModelMeta | None = None) -> Prepared:
    """Data module (set up), model description and a freshly initialised module for ``config``.

    Fresh means: pretrained or local weights loaded when configured (head new; which layers loaded is
    printed), then data-dependent initialisation (airbench's whitening) from training images. A resumed run
    (``resumed``: its checkpoint's ModelMeta) overwrites all of it from its checkpoint, so no weights are
    fetched for it.
    """
    start = resolve_start(config, resumed)
    config = start.config
    data = config.data
    if resumed is None and config.model.weights and data.mean is None and data.std is None:
        source_meta = read_weights(config.model.weights)[2]
        if source_meta:  # the source run's normalisation: its layers learned on inputs scaled that way
            data = replace(data, mean=tuple(source_meta["mean"]), std=tuple(source_meta["std"]))
    datamodule = ImageDataModule(data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    kwargs = model_kwargs(start, resumed)
    meta = ModelMeta(
        model=config.model.name,
        num_classes=datamodule.num_classes,
        class_names=list(datamodule.class_names),
        image_size=config.data.image_size,
        mean=list(datamodule.mean),
        std=list(datamodule.std),
        model_kwargs=kwargs,
        resize=config.data.resize,
        pretrained=describe_weights(start, resumed),
    )
    head = head_keys(meta.model, meta.num_classes, kwargs) if start.fine_tuning else None
    module = ClassifierModule.create(
        meta, config.optim, tta=config.tta, head=head, freeze_backbone=start.freeze_backbone
    )
    check_input_size(module.model, meta)
    if resumed is None and start.pretrained is not None:
        loaded = load_into(module.model.net, start.pretrained, head or [])
        start.notes.append(
            f"{loaded['loaded_tensors']} pretrained tensors loaded; new head for {meta.num_classes} classes: "
            f"{', '.join(loaded['fresh_head'])}"
        )
    elif resumed is None and config.model.weights:
        report = load_weights(module.model.net, config.model.weights)
        if launched_world().rank == 0:
            console(stderr=True).print(escape(report.summary()), highlight=False)
    module.data_init(datamodule.sample_train_images(5000))
    start.notes.extend(datamodule.notes)
    return Prepared(datamodule, meta, module, start)


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
    validate(config.data, auto_size=True)
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

    resumed = checkpoint_meta(point.content, point.checkpoint) if point is not None else None
    prepared = prepare(config, resumed)
    datamodule, meta, module = prepared.datamodule, prepared.meta, prepared.module
    config = prepared.start.config
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
    if trainer.global_step == 0 and not trainer.interrupted:
        raise LightshipError(_no_steps_message(datamodule, trainer_kwargs))
    val_acc = scalar(trainer.callback_metrics.get("val/acc"))  # trainer.test replaces callback_metrics
    best = checkpoints[0] if checkpoints and has_val else None
    final_split = datamodule.final_split if (datamodule.has_test or has_val) else None
    final_metrics: dict[str, float] = {}
    if final_split is not None and not trainer.interrupted:
        ckpt = (
            best.best_model_path if best is not None and Path(best.best_model_path or "-").is_file() else None
        )
        final_metrics = trainer.test(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False)[0]

    summary = build_summary(
        trainer=trainer,
        datamodule=datamodule,
        meta=meta,
        run=run,
        tta=config.tta,
        final_metrics=final_metrics,
        final_split=final_split,
        val_acc=val_acc,
        best_val_acc=scalar(best.best_model_score if best is not None else None),
        timing={
            "train_seconds": round(train_seconds, 3),
            "wall_seconds": round(time.perf_counter() - started, 3),
            "train_images_per_second": round(speed.rate, 1),
        },
        start=prepared.start.how,
        notes=prepared.start.notes,
        data_source=config.data.source,
        weights=None if config.model.weights is None else str(config.model.weights),
    )
    if trainer.is_global_zero:
        run.plot_curves()
        if has_val and not trainer.interrupted and (run.best.is_file() or run.last.is_file()):
            # The run's temperature, fitted now on its validation split (RUN/calibration.json): evaluate and
            # export read this one value (lightship.training.calibration). A run that kept no checkpoint
            # (fast_dev_run, --trainer.enable_checkpointing false) has no model to calibrate.
            calibration = load_trained(run.root).calibration
            summary |= {
                "temperature": calibration.temperature,
                "val_ece_raw": calibration.ece_before,
                "val_ece_calibrated": calibration.ece_after,
            }
        run.write_summary(summary)
    return RunResult(run_dir=run.root, summary=summary)


def _no_steps_message(datamodule: ImageDataModule, trainer_kwargs: dict[str, Any]) -> str:
    """Why a fit made no optimiser step, and what to change."""
    limits = ", ".join(
        f"{key}={trainer_kwargs[key]}"
        for key in ("max_epochs", "max_steps", "limit_train_batches")
        if key in trainer_kwargs
    )
    return (
        f"training made no optimiser step: {datamodule.split_size('train')} training images in batches of "
        f"{datamodule.config.batch_size}, trainer settings {limits or 'default'}. The weights are untrained, so "
        "no accuracy or export of this run would mean anything. Add training images (at least 2), or raise "
        "--trainer.max_epochs / --trainer.max_steps / --trainer.limit_train_batches."
    )
