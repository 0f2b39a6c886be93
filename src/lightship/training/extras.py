"""Lightning's own loggers, callbacks and plugins from a config, next to the ones the run folder needs.

``trainer.logger``, ``trainer.callbacks`` and ``trainer.plugins`` take what ``lightning.Trainer`` takes, in
LightningCLI's form when they come from the command line or YAML: ``{"class_path": ..., "init_args": ...}``
(``--trainer.callbacks+=EarlyStopping --trainer.callbacks.monitor val/acc``). They are added to lightship's
own: the run folder's ``metrics.csv`` and ``tensorboard/`` loggers, its best/last checkpoints, the atomic
checkpoint writer. A config keeps them as plain data (so ``config.yaml`` stays YAML); they become objects
here, when the Trainer is built.
"""

from __future__ import annotations

import importlib
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.loggers import Logger
from lightning.pytorch.plugins.io import CheckpointIO

from lightship.errors import LightshipError

#: Where a short class name in a hand-written config is looked up (the command line resolves them itself).
_SHORT_NAMES = ("lightning.pytorch.callbacks", "lightning.pytorch.loggers", "lightning.pytorch.plugins")


def instantiate(value: Any) -> Any:
    """An object from ``{"class_path": ..., "init_args": {...}}``; anything else is returned as it is."""
    if not (isinstance(value, dict) and "class_path" in value):
        return value
    path = str(value["class_path"])
    module_name, _, name = path.rpartition(".")
    candidates = [module_name] if module_name else list(_SHORT_NAMES)
    for candidate in candidates:
        try:
            cls = getattr(importlib.import_module(candidate), name)
        except (ImportError, AttributeError):
            continue
        try:
            return cls(**(value.get("init_args") or {}))
        except (TypeError, ValueError) as exc:
            raise LightshipError(f"cannot create {path}: {exc}") from exc
    raise LightshipError(f"class_path {path!r} names no importable class; give its full module path")


def _objects(value: Any) -> list[Any]:
    if value is None or isinstance(value, bool):
        return []
    return [instantiate(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def user_loggers(value: Any) -> list[Logger]:
    """``trainer.logger``: loggers added to the run folder's own. ``false`` cannot remove those."""
    if value is False:
        raise LightshipError(
            "--trainer.logger false would drop the run folder's metrics.csv and tensorboard/, which curves.png "
            "and summary.json are made from; leave it out, or add loggers with --trainer.logger+=CLASS"
        )
    loggers = _objects(value)
    for logger in loggers:
        if not isinstance(logger, Logger):
            raise LightshipError(f"--trainer.logger: {type(logger).__name__} is not a Lightning logger")
    return loggers


def user_callbacks(value: Any) -> list[L.Callback]:
    """``trainer.callbacks``: callbacks added to lightship's (checkpoints, progress bar, images/s)."""
    callbacks = _objects(value)
    for callback in callbacks:
        if not isinstance(callback, L.Callback):
            raise LightshipError(
                f"--trainer.callbacks: {type(callback).__name__} is not a Lightning callback"
            )
    return callbacks


def user_plugins(value: Any) -> list[Any]:
    """``trainer.plugins``: any but a CheckpointIO, since lightship's writes checkpoints atomically."""
    plugins = _objects(value)
    if any(isinstance(p, CheckpointIO) for p in plugins):
        raise LightshipError(
            "--trainer.plugins: lightship writes checkpoints with its own atomic CheckpointIO; another one "
            "would replace it"
        )
    return plugins


def has_progress_bar(callbacks: list[L.Callback]) -> bool:
    """Whether the user brought a progress bar (Lightning allows one; lightship's Rich bar then stays out)."""
    return any(isinstance(c, ProgressBar) for c in callbacks)
