"""Training: typed config, LightningModule, optimiser and callbacks, :func:`train` that writes the run
folder, and the run folder itself (:class:`RunFolder`, :func:`load_trained`)."""

from lightship.training.checkpoint import TrainedModel, load_classifier, load_trained
from lightship.training.config import ModelConfig, OptimConfig, TrainConfig
from lightship.training.module import ClassifierModule
from lightship.training.run import RunResult, train
from lightship.training.runfolder import RunFolder

__all__ = [
    "ClassifierModule",
    "ModelConfig",
    "OptimConfig",
    "RunFolder",
    "RunResult",
    "TrainConfig",
    "TrainedModel",
    "load_classifier",
    "load_trained",
    "train",
]
