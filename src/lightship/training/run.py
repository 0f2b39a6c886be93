"""``lightship.train``: one call from a config to a run folder (contract 1 between training and the rest;
its layout is :mod:`lightship.training.runfolder`'s)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import TensorBoardLogger

from lightship.data.module import ImageDataModule
from lightship.errors import CheckpointError, LightshipError
from lightship.models import ModelMeta
from lightship.models.pretrained import head_keys, load_into
from lightship.models.registry import load_pretrained
from lightship.training.callbacks import ImagesPerSecond, Lookahead
from lightship.training.checkpoint import checkpoint_meta, read_checkpoint
from lightship.training.checkpoint_io import AtomicCheckpointIO
from lightship.training.config import TrainConfig
from lightship.training.loggers import AppendingCSVLogger
from lightship.training.module import ClassifierModule
from lightship.training.runfolder import BEST, TENSORBOARD_DIR, RunFolder
from lightship.training.start import Start, describe_weights, model_kwargs, resolve_start
from lightship.training.summary import build_summary, scalar


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

    Fresh means: pretrained or local weights loaded when configured (head new), then data-dependent
    initialisation (airbench's whitening) from training images. A resumed run (``resumed``: its checkpoint's
    ModelMeta) overwrites all of it from its checkpoint, so no weights are fetched for it.
    """
    start = resolve_start(config, resumed)
    config = start.config
    datamodule = ImageDataModule(config.data)
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
    if resumed is None and start.pretrained is not None:
        loaded = load_into(module.model.net, start.pretrained, head or [])
        start.notes.append(
            f"{loaded['loaded_tensors']} pretrained tensors loaded; new head for {meta.num_classes} classes: "
            f"{', '.join(loaded['fresh_head'])}"
        )
    elif resumed is None and config.model.weights:
        load_pretrained(module.model.net, Path(config.model.weights))
    module.data_init(datamodule.sample_train_images(5000))
    start.notes.extend(datamodule.notes)
    return Prepared(datamodule, meta, module, start)


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
    resumed = checkpoint_meta(read_checkpoint(last_ckpt), last_ckpt) if resume else None
    prepared = prepare(config, resumed)
    datamodule, meta, module = prepared.datamodule, prepared.meta, prepared.module
    config = prepared.start.config
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
            monitor="val/acc" if has_val else None,  # no val: best.ckpt is rewritten every epoch = the last
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
    if trainer.global_step == 0 and not trainer.interrupted:
        raise LightshipError(_no_steps_message(datamodule, trainer_kwargs))
    val_acc = scalar(trainer.callback_metrics.get("val/acc"))  # trainer.test replaces callback_metrics
    final_split = datamodule.final_split if (datamodule.has_test or has_val) else None
    final_metrics: dict[str, float] = {}
    if final_split is not None and not trainer.interrupted:
        ckpt = "best" if has_val and trainer.checkpoint_callback.best_model_path else None
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
        timing={
            "train_seconds": round(train_seconds, 3),
            "wall_seconds": round(time.perf_counter() - started, 3),
            "train_images_per_second": round(speed.rate, 1),
        },
        start=prepared.start.how,
        notes=prepared.start.notes,
    )
    if trainer.is_global_zero:
        run.plot_curves()
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
