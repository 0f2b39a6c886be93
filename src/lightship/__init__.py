"""lightship: train an image classifier with PyTorch Lightning, export it once, verify it everywhere.

The Python API behind every command. Names are imported lazily, so ``lightship.load`` on a
deployment machine does not pay for importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "train": "lightship.training",
    "TrainConfig": "lightship.training",
    "ModelConfig": "lightship.training",
    "OptimConfig": "lightship.training",
    "load_classifier": "lightship.training",
    "DataConfig": "lightship.data",
    "AugmentConfig": "lightship.data",
    "create_model": "lightship.models",
    "list_models": "lightship.models",
    "register_model": "lightship.models",
    "load": "lightship.runtime",
    "Predictor": "lightship.runtime",
    "export_bundle": "lightship.export",
    "verify_bundle": "lightship.export",
    "evaluate": "lightship.evaluation",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'lightship' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
