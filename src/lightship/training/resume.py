"""``train --resume RUN``: whether a run can continue with a config, decided before anything in RUN changes.

The checkpoint's weights, optimiser state and schedule only fit the model, input and optimiser they were
made with; a resume with another model, kwargs, image size, normalisation or optimiser would fail deep
inside Lightning (a size-mismatch traceback) or, worse, continue with weights that mean something else.
So every difference is named up front, and a run that has nothing left to train is said to be finished
instead of rewriting its summary with empty figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightship.errors import CheckpointError, LightshipError
from lightship.models import ModelMeta
from lightship.training.checkpoint import checkpoint_meta, read_checkpoint
from lightship.training.config import TrainConfig
from lightship.training.runfolder import RunFolder


@dataclass(frozen=True)
class ResumePoint:
    """Where a run stopped: its ``last.ckpt``, as read once."""

    run: RunFolder
    checkpoint: Path
    content: dict[str, Any]

    @property
    def global_step(self) -> int:
        return int(self.content.get("global_step", 0))

    @property
    def epochs_done(self) -> int:
        """Epochs the checkpoint finished (Lightning counts an epoch done once its checkpoint is written)."""
        try:
            return int(self.content["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])
        except (KeyError, TypeError):
            return int(self.content.get("epoch", -1)) + 1


def resume_point(run_dir: Path) -> ResumePoint:
    """The run's ``last.ckpt``, read; an error saying what to do when the run never finished an epoch."""
    run = RunFolder(Path(run_dir))
    run.read_config()  # a folder that is no run says so, naming config.yaml
    if not run.last.is_file():
        raise CheckpointError(
            f"cannot resume: {run.last} does not exist (the run stopped before its first epoch ended); start "
            f"it again: lightship train --config {run.config_file} --out {run.root} --overwrite true"
        )
    return ResumePoint(run, run.last, read_checkpoint(run.last))


def check_compatible(point: ResumePoint, meta: ModelMeta, config: TrainConfig) -> None:
    """CheckpointError naming every difference between the run and ``config`` that the checkpoint cannot
    take: model name and kwargs, classes, image size, mean/std and the optimiser's kind."""
    old = checkpoint_meta(point.content, point.checkpoint)
    old_optim = (point.content.get("hyper_parameters") or {}).get("optim") or {}
    pairs = [
        ("model.name", old.model, meta.model),
        ("model.kwargs", dict(old.model_kwargs), dict(meta.model_kwargs)),
        ("the classes", list(old.class_names), list(meta.class_names)),
        ("data.image_size", old.image_size, meta.image_size),
        ("data.mean", _rounded(old.mean), _rounded(meta.mean)),
        ("data.std", _rounded(old.std), _rounded(meta.std)),
        ("optim.optimizer", old_optim.get("optimizer", config.optim.optimizer), config.optim.optimizer),
    ]
    differences = [f"{name} is {was!r} in the run but {now!r} now" for name, was, now in pairs if was != now]
    if differences:
        raise CheckpointError(
            f"cannot resume {point.run.root}: {'; '.join(differences)}. Resume with the run's own settings "
            "(leave those options out: its config.yaml is read first), or start a new run with --out"
        )


def check_unfinished(point: ResumePoint, max_epochs: int | None, max_steps: int | None) -> None:
    """LightshipError when the run already reached ``max_epochs``/``max_steps``: nothing would be trained."""
    by_steps = max_steps is not None and 0 <= max_steps <= point.global_step
    by_epochs = max_epochs is not None and 0 <= max_epochs <= point.epochs_done
    if by_steps or by_epochs:
        raise LightshipError(
            f"{point.run.root} already finished: {point.epochs_done} epochs, {point.global_step} steps "
            f"(max_epochs {max_epochs}, max_steps {max_steps}); nothing to resume and nothing was changed. "
            f"To train longer: lightship train --resume {point.run.root} --trainer.max_epochs "
            f"{point.epochs_done * 2 or 1}"
        )


def _rounded(values: list[float]) -> list[float]:
    """Mean/std recomputed from the same images agree to float precision, not bit for bit."""
    return [float(f"{v:.6g}") if math.isfinite(v) else v for v in values]
