"""The run folder (contract 1 between training and everything after it): its layout, and the one reader
and writer of what a run says about itself.

    RUN/config.yaml               the resolved configuration (reusable: --config RUN/config.yaml)
    RUN/checkpoints/last.ckpt     end of the last finished epoch, written atomically (the resume point)
    RUN/checkpoints/best.ckpt     best validation accuracy so far (what evaluate and export use)
    RUN/metrics.csv, tensorboard/ per-step and per-epoch metrics
    RUN/curves.png                loss, accuracy and learning rate per epoch
    RUN/summary.json              final figures: test_acc, val_acc, images/s, class names, ...
    RUN/calibration.json          the temperature of the best checkpoint, fitted on the val split
                                  (lightship.training.calibration), with ECE before and after

``train --resume``, ``evaluate`` and ``export`` all read a run's config through :meth:`RunFolder.read_config`,
so the run's source, split seed and image size are used without the user repeating them.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from lightship.data.config import AugmentConfig, DataConfig
from lightship.errors import LightshipError
from lightship.files import write_json, write_text
from lightship.training.config import TrainConfig
from lightship.training.curves import plot_curves
from lightship.training.ranks import agree, launched_world

#: Where numbered run folders go when neither --out nor --trainer.default_root_dir says otherwise.
RUNS_DIR = "runs"
CONFIG_FILE = "config.yaml"
CHECKPOINT_DIR = "checkpoints"
BEST = "best"
LAST = "last"
CHECKPOINT_SUFFIX = ".ckpt"
METRICS_FILE = "metrics.csv"
TENSORBOARD_DIR = "tensorboard"
CURVES_FILE = "curves.png"
SUMMARY_FILE = "summary.json"
CALIBRATION_FILE = "calibration.json"
#: Where ``lightship export RUN`` puts the run's bundle unless told otherwise.
BUNDLE_DIR = "bundle"


@dataclass(frozen=True)
class RunFolder:
    """One run folder at ``root`` (which need not exist yet)."""

    root: Path

    @classmethod
    def claim(cls, config: TrainConfig) -> RunFolder:
        """The folder a new run writes to, decided once by rank 0 and shared with every other rank.

        ``config.out`` when given: refused when it already holds something, unless ``config.overwrite``
        (then emptied first, if it is a run folder). Otherwise ``ROOT/NAME``, ``ROOT/NAME2``, ``ROOT/NAME3``
        ... the first that is free (numbered the way Ultralytics numbers runs), with ROOT ``runs`` (or
        ``trainer.default_root_dir``) and NAME ``config.name`` (default ``<source>-<model>``). The folder is
        created when it is chosen, so two runs started at once never pick the same one.
        """
        return cls(Path(agree("run_dir", lambda: str(cls._choose(config)))))

    @classmethod
    def _choose(cls, config: TrainConfig) -> Path:
        if config.out is not None:
            out = Path(config.out)
            if out.exists() and not out.is_dir():
                raise LightshipError(f"--out {out} is a file; choose a folder for the run")
            if out.is_dir() and any(out.iterdir()):
                run = cls(out)
                if not config.overwrite:
                    raise LightshipError(
                        f"--out {out} already holds {'a run' if run.is_run() else 'files'}; pass --overwrite true "
                        f"to replace it, `lightship train --resume {out}` to continue it, or choose another --out"
                    )
                if not run.is_run():
                    raise LightshipError(
                        f"--out {out} holds files but no lightship run (no {CONFIG_FILE} or {CHECKPOINT_DIR}/), so "
                        "--overwrite will not delete it; choose another --out"
                    )
                shutil.rmtree(out)
            out.mkdir(parents=True, exist_ok=True)
            return out
        parent = Path(config.trainer.get("default_root_dir") or RUNS_DIR)
        name = config.name or f"{config.data.source}-{config.model.name}"
        parent.mkdir(parents=True, exist_ok=True)
        number = 1
        while True:
            candidate = parent / (name if number == 1 else f"{name}{number}")
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                number += 1

    def release_if_unstarted(self) -> None:
        """Rank 0 removes a new run's folder again when training never started (no config.yaml: it is written
        as the first epoch begins), so a failed start leaves no half run folder behind and takes no number."""
        if launched_world().rank == 0 and not self.config_file.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def existing_checkpoints(self) -> dict[str, str]:
        """``{"best": path, "last": path}`` for the checkpoints that exist: what a summary may promise."""
        return {
            name: str(path) for name, path in (("best", self.best), ("last", self.last)) if path.is_file()
        }

    def kept_checkpoint_note(self) -> str:
        """What survives a run stopped by an error: the last checkpoint written, or that there is none."""
        if self.last.is_file():
            return f"The last good checkpoint is kept: {self.last}."
        return "No checkpoint was written: the run stopped before its first epoch ended."

    def is_run(self) -> bool:
        """Whether the folder holds a lightship run (its config or its checkpoints)."""
        return self.config_file.is_file() or self.checkpoints.is_dir()

    @classmethod
    def of_checkpoint(cls, checkpoint: Path) -> RunFolder | None:
        """The run folder ``checkpoint`` belongs to (``RUN/checkpoints/x.ckpt`` -> ``RUN``), if it has a config."""
        root = checkpoint.parent.parent if checkpoint.parent.name == CHECKPOINT_DIR else checkpoint.parent
        run = cls(root)
        return run if run.config_file.is_file() else None

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINT_DIR

    @property
    def best(self) -> Path:
        return self.checkpoints / f"{BEST}{CHECKPOINT_SUFFIX}"

    @property
    def last(self) -> Path:
        return self.checkpoints / f"{LAST}{CHECKPOINT_SUFFIX}"

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def curves(self) -> Path:
        return self.root / CURVES_FILE

    @property
    def summary(self) -> Path:
        return self.root / SUMMARY_FILE

    @property
    def calibration(self) -> Path:
        return self.root / CALIBRATION_FILE

    @property
    def bundle(self) -> Path:
        """The default bundle folder of this run (``lightship export RUN``)."""
        return self.root / BUNDLE_DIR

    def read_config(self) -> dict[str, Any]:
        """The run's ``config.yaml`` as plain data: the one reader of a run's configuration."""
        if not self.config_file.is_file():
            raise LightshipError(
                f"{self.root} has no {CONFIG_FILE}, so it is not a lightship run folder (or the run never started)"
            )
        try:
            saved = yaml.safe_load(self.config_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LightshipError(f"{self.config_file} is not readable YAML ({exc})") from exc
        if not isinstance(saved, dict):
            raise LightshipError(f"{self.config_file} does not hold a lightship train configuration")
        return saved

    def data_config(self) -> DataConfig:
        """The ``data:`` section of the run's config as a DataConfig, ignoring keys this version does not know."""
        section = self.read_config().get("data") or {}
        known = {f.name for f in fields(DataConfig)}
        values: dict[str, Any] = {k: v for k, v in section.items() if k in known}
        for key in ("root", "cache_dir"):
            if values.get(key) is not None:
                values[key] = Path(values[key])
        for key in ("mean", "std"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        if isinstance(values.get("augment"), dict):
            values["augment"] = AugmentConfig(**values["augment"])
        return DataConfig(**values)

    def write_config(self, config: TrainConfig) -> None:
        """``config.yaml``: the resolved configuration, in the form ``--config`` reads back."""
        write_text(self.config_file, yaml.safe_dump(config_to_dict(config), sort_keys=False))

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json(self.summary, summary)

    def plot_curves(self) -> None:
        """``curves.png`` from ``metrics.csv`` (nothing to draw before the logger has written a row)."""
        if self.metrics.is_file():
            plot_curves(self.metrics, self.curves)


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain YAML-safe types: paths as strings; a logger or callback given as an object in Python (not as a
    class_path spec) is recorded by its class path, since its constructor arguments cannot be recovered."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        return {"class_path": f"{type(value).__module__}.{type(value).__qualname__}"}

    return plain(asdict(config))
