"""Reading checkpoints back: the training side's half of the run-folder contract.

A lightship checkpoint is a Lightning checkpoint whose ``hyper_parameters["lightship"]`` holds a
:class:`~lightship.models.ModelMeta` as plain types, so it loads with ``torch.load(weights_only=True)`` and rebuilds the
exact :class:`~lightship.models.Classifier` without the training code or the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lightship.errors import CheckpointError
from lightship.models import Classifier, ModelMeta


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder means its best checkpoint (else last); a file is taken as it is."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.ckpt", "last.ckpt"):
            candidate = path / "checkpoints" / name
            if candidate.is_file():
                return candidate
        raise CheckpointError(
            f"{path} holds no checkpoints/best.ckpt or checkpoints/last.ckpt; pass a run folder written by "
            "`lightship train` or a .ckpt file"
        )
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; pass a run folder or a .ckpt file")
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` with errors that name the file and say what to do."""
    path = resolve_checkpoint(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError, zipfile errors...
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(exc).__name__}: {str(exc)[:200]}). It may be cut short "
            "by a killed run or a full disk; use the previous checkpoint (checkpoints/last.ckpt or best.ckpt)."
        ) from exc


def checkpoint_meta(ckpt: dict[str, Any], path: str | Path) -> ModelMeta:
    try:
        return ModelMeta(**ckpt["hyper_parameters"]["lightship"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{path} was not written by lightship train (no model description inside)"
        ) from exc


def load_classifier(path: str | Path) -> tuple[Classifier, ModelMeta]:
    """Rebuild the trained classifier (eval mode, CPU) and its metadata from a run folder or ``.ckpt``."""
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
    return model.eval(), meta
