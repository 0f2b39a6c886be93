"""Reading a run folder's own description back (contract 1): which data a checkpoint was trained on.

Evaluate and export default to the run's data, so ``lightship evaluate RUN`` and ``lightship export RUN``
use the same source, split seed and image size as training without the user repeating them.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from ..data.config import AugmentConfig, DataConfig
from ..errors import DataError
from ..models import ModelMeta


def run_folder_of(checkpoint: Path) -> Path | None:
    """The run folder a checkpoint belongs to (``RUN/checkpoints/x.ckpt`` -> ``RUN``), if it has a config."""
    run = checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent
    return run if (run / "config.yaml").is_file() else None


def data_config_from_run(run: Path) -> DataConfig:
    """The ``data:`` section of a run's ``config.yaml`` as a DataConfig, ignoring unknown keys."""
    saved = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8")) or {}
    section = saved.get("data") or {}
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


def resolve_data(checkpoint: Path, data: DataConfig | None, meta: ModelMeta) -> DataConfig:
    """The data to evaluate on: the run's own data config, with every field ``data`` sets overriding it.

    "Sets" means differs from the DataConfig default, which is what ``--data.root PATH`` on the command
    line produces: the run's source, sizes and seed stay, only the root changes. ``image_size`` is always
    the model's, so images are decoded and resized exactly as in training.
    """
    run = run_folder_of(checkpoint)
    if run is None and data is None:
        raise DataError(
            f"{checkpoint} is not inside a run folder with a config.yaml, so the data it was trained on is "
            "unknown; pass it with --data.source/--data.root."
        )
    base = data_config_from_run(run) if run is not None else DataConfig()
    if data is not None:
        defaults = DataConfig()
        changed = {
            f.name: getattr(data, f.name)
            for f in fields(DataConfig)
            if getattr(data, f.name) != getattr(defaults, f.name)
        }
        base = replace(base, **changed)
    return replace(base, image_size=meta.image_size)
