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

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from lightship.data.config import AugmentConfig, DataConfig
from lightship.errors import LightshipError
from lightship.files import write_json, write_text
from lightship.training.config import TrainConfig
from lightship.training.curves import plot_curves

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


@dataclass(frozen=True)
class RunFolder:
    """One run folder at ``root`` (which need not exist yet)."""

    root: Path

    @classmethod
    def new(cls, config: TrainConfig) -> RunFolder:
        """``config.out``, or ``runs/<source>-<model>-<time>`` when it is not set."""
        if config.out is not None:
            return cls(Path(config.out))
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return cls(Path("runs") / f"{config.data.source}-{config.model.name}-{stamp}")

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
    """Plain YAML-safe types (paths as strings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(asdict(config))
