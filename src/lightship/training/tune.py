"""``lightship tune lr`` and ``lightship tune batch-size``: Lightning's Tuner on a lightship config.

Both run a few real training steps on the configured data and model, then print and save what they found
(``--out DIR``: ``lr_find.png`` + ``tune.json``). Neither writes checkpoints into a run folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.tuner import Tuner

from lightship.errors import LightshipError
from lightship.files import save_figure, write_json
from lightship.training.config import TrainConfig
from lightship.training.run import prepare


def _trainer(config: TrainConfig, out: Path, steps: int, steps_per_epoch: int) -> L.Trainer:
    """A Trainer with enough epochs for ``steps`` (the schedule needs a finite length; the tuner stops it)."""
    kwargs = {
        "precision": "32-true",
        **config.trainer,
        "max_epochs": math.ceil(steps / max(1, steps_per_epoch)) + 1,
    }
    for key in ("enable_checkpointing", "logger", "callbacks", "default_root_dir"):
        kwargs.pop(key, None)
    return L.Trainer(default_root_dir=out, logger=False, enable_checkpointing=False, **kwargs)


def find_lr(
    config: TrainConfig, out: Path, min_lr: float = 1e-5, max_lr: float = 10.0, num_training: int = 100
) -> dict[str, Any]:
    """Learning-rate range test: loss over ``num_training`` steps of exponentially growing lr.

    During the test every parameter group gets the same lr (Lightning's finder); the suggestion is for
    ``optim.lr``, to which ``optim.norm_lr_scale`` still applies.
    """
    if config.optim.optimizer == "muon":
        raise LightshipError(
            "tune lr sweeps one learning rate over every parameter group, but with --optim.optimizer muon the "
            "conv filters' step (--optim.muon_lr) is on another scale; run the range test with "
            "--optim.optimizer sgd, and compare muon_lr values with short runs (--trainer.max_epochs)"
        )
    prepared = prepare(config)
    datamodule, module = prepared.datamodule, prepared.module
    out.mkdir(parents=True, exist_ok=True)
    trainer = _trainer(config, out, num_training, len(datamodule.train_dataloader()))
    finder = Tuner(trainer).lr_find(
        module,
        datamodule=datamodule,
        min_lr=min_lr,
        max_lr=max_lr,
        num_training=num_training,
        update_attr=False,
    )
    suggestion = finder.suggestion()
    save_figure(out / "lr_find.png", finder.plot(suggest=True), dpi=120, tight=False)
    result = {
        "suggested_lr": suggestion,
        "plot": str(out / "lr_find.png"),
        "min_lr": min_lr,
        "max_lr": max_lr,
        "num_training": num_training,
    }
    write_json(out / "tune.json", result)
    return result


def find_batch_size(
    config: TrainConfig, out: Path, max_trials: int = 6, steps_per_trial: int = 3
) -> dict[str, Any]:
    """Largest batch size (powers of two from ``data.batch_size``) that trains without running out of memory.

    On a CPU memory rarely runs out, so ``max_trials`` bounds the search.
    """
    prepared = prepare(config)
    datamodule, module = prepared.datamodule, prepared.module
    trainer = _trainer(config, out, max_trials * steps_per_trial, 1)
    found = Tuner(trainer).scale_batch_size(
        module,
        datamodule=datamodule,
        mode="power",
        max_trials=max_trials,
        steps_per_trial=steps_per_trial,
        init_val=config.data.batch_size,
    )
    result = {"batch_size": found, "max_trials": max_trials}
    write_json(out / "tune.json", result)
    return result
