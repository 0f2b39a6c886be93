"""Reading checkpoints back: the training side's half of the run-folder contract.

A lightship checkpoint is a Lightning checkpoint whose ``hyper_parameters["lightship"]`` holds a
:class:`~lightship.models.ModelMeta` as plain types, so it loads with ``torch.load(weights_only=True)`` and
rebuilds the exact :class:`~lightship.models.Classifier` without the training code or the data.
A command resolves and reads its checkpoint once (:func:`load_trained`) and passes the result along.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch

from lightship.data.config import DataConfig
from lightship.errors import CheckpointError, DataError, load_failure
from lightship.models import Classifier, ModelMeta
from lightship.training.calibration import Calibration, not_fitted, run_calibration
from lightship.training.runfolder import RunFolder


@dataclass
class TrainedModel:
    """A checkpoint resolved and read once: its file, the run folder it belongs to (if any), the rebuilt
    classifier (eval mode, CPU), its ModelMeta and the temperature applied to both (``calibration``)."""

    checkpoint: Path
    run: RunFolder | None
    classifier: Classifier
    meta: ModelMeta
    calibration: Calibration = field(default_factory=lambda: not_fitted("not calibrated"))

    @property
    def home(self) -> Path:
        """Where outputs about this model go by default: its run folder, else the checkpoint's folder."""
        return self.run.root if self.run is not None else self.checkpoint.parent

    def data_config(self, overrides: DataConfig | None = None) -> DataConfig | None:
        """The data the model was trained on (the run's config), with every field ``overrides`` sets replaced.

        "Sets" means differs from the DataConfig default, which is what ``--data.root PATH`` on the command
        line produces: the run's source, sizes and seed stay, only the root changes. ``image_size`` and
        ``resize`` are always the model's, so images are decoded and resized exactly as in training. None when the checkpoint is
        outside a run folder and no ``overrides`` are given: the data is unknown.
        """
        return data_of(self.run, self.meta, overrides)

    def require_data_config(self, overrides: DataConfig | None = None) -> DataConfig:
        """:meth:`data_config`, or a DataError saying how to name the data when it is unknown."""
        config = self.data_config(overrides)
        if config is None:
            raise DataError(
                f"{self.checkpoint} is not inside a run folder with a config.yaml, so the data it was trained "
                "on is unknown; pass it with --data.source/--data.root."
            )
        return config


def data_of(run: RunFolder | None, meta: ModelMeta, overrides: DataConfig | None = None) -> DataConfig | None:
    """The data ``run`` was trained on (its config.yaml) with the fields ``overrides`` sets replaced, at
    ``meta``'s image size and resize mode; None without a run and without overrides (see
    :meth:`TrainedModel.data_config`)."""
    if run is None and overrides is None:
        return None
    base = run.data_config() if run is not None else DataConfig()
    if overrides is not None:
        defaults = DataConfig()
        changed = {
            f.name: getattr(overrides, f.name)
            for f in fields(DataConfig)
            if getattr(overrides, f.name) != getattr(defaults, f.name)
        }
        if ("root" in changed or "url" in changed) and "source" not in changed:
            # New data, not the run's: its source is read from the folder (`auto`), never kept from the
            # run (a digits run would ignore the folder and score digits again).
            changed.update(source="auto", url=changed.get("url"), root=changed.get("root"))
        base = replace(base, **changed)
    return replace(base, image_size=meta.image_size, resize=meta.resize)


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder means its best checkpoint (else last); a file is taken as it is."""
    path = Path(path)
    if path.is_dir():
        run = RunFolder(path)
        for candidate in (run.best, run.last):
            if candidate.is_file():
                return candidate
        raise CheckpointError(
            f"{path} holds no checkpoints/best.ckpt or checkpoints/last.ckpt; pass a run folder written by "
            "`lightship train` or a .ckpt file"
        )
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; pass a run folder or a .ckpt file")
    return path


def read_checkpoint(file: Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a checkpoint file, with errors that name it and say what to do."""
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError, zipfile errors...
        raise CheckpointError(
            f"{file} is not a readable checkpoint ({load_failure(exc)}). It may be cut short "
            "by a killed run or a full disk; use the previous checkpoint (checkpoints/last.ckpt or best.ckpt)."
        ) from exc


def checkpoint_meta(ckpt: dict[str, Any], path: str | Path) -> ModelMeta:
    try:
        return ModelMeta(**ckpt["hyper_parameters"]["lightship"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{path} was not written by lightship train (no model description inside)"
        ) from exc


def load_trained(path: str | Path, calibrate: bool = True) -> TrainedModel:
    """Resolve ``path`` (a run folder or ``.ckpt``) once, read it once, and rebuild the trained classifier.

    With ``calibrate`` the run's temperature (``RUN/calibration.json``, fitted on its validation split
    first when missing: :mod:`lightship.training.calibration`) is set on the classifier and the meta, so
    every command that loads a run scores with the same value; ``calibrate=False`` keeps raw scores.
    """
    file = resolve_checkpoint(path)
    ckpt = read_checkpoint(file)
    meta = checkpoint_meta(ckpt, file)
    model = meta.build()
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{file}: weights do not fit model {meta.model!r}: {str(exc)[:300]}") from exc
    trained = TrainedModel(file, RunFolder.of_checkpoint(file), model.eval(), meta)
    if not calibrate:
        trained.calibration = not_fitted("calibration turned off (--calibrate false): raw softmax scores")
    elif trained.run is None:
        trained.calibration = not_fitted(
            "a checkpoint outside a run folder: no validation split to fit a temperature on"
        )
    else:
        trained.calibration = run_calibration(
            trained.run.calibration, file, trained.classifier, trained.require_data_config()
        )
    trained.meta.temperature = trained.classifier.temperature = trained.calibration.temperature
    trained.meta.run = None if trained.run is None else str(trained.run.root)
    return trained


def load_classifier(path: str | Path, calibrate: bool = True) -> tuple[Classifier, ModelMeta]:
    """Rebuild the trained classifier (eval mode, CPU) and its metadata from a run folder or ``.ckpt``, with
    the run's temperature (see :func:`load_trained`)."""
    trained = load_trained(path, calibrate)
    return trained.classifier, trained.meta
