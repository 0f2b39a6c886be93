"""Model registry (by name, timm-style) and the pixels-in :class:`Classifier` every artifact is made of."""

from . import airbench, resnet_cifar  # noqa: F401  (registers the models)
from .classifier import Classifier, Preprocess, resize_to
from .registry import (
    UnknownModelError,
    create_model,
    default_image_size,
    list_models,
    register_model,
)

__all__ = [
    "Classifier",
    "Preprocess",
    "UnknownModelError",
    "create_model",
    "default_image_size",
    "list_models",
    "register_model",
    "resize_to",
]
