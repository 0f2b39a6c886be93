"""Training: typed config, LightningModule, callbacks, and :func:`train` that writes the run folder."""

from .checkpoint import load_classifier
from .config import ModelConfig, OptimConfig, TrainConfig
from .module import ClassifierModule
from .run import RunResult, train

__all__ = [
    "ClassifierModule",
    "ModelConfig",
    "OptimConfig",
    "RunResult",
    "TrainConfig",
    "load_classifier",
    "train",
]
