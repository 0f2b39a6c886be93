"""Model registry (by name, timm-style), the pixels-in :class:`Classifier` every artifact is made of, its
:class:`ModelMeta` (how to rebuild it) and the :class:`InferenceWrapper` every artifact is exported from."""

from lightship.models import airbench, resnet_cifar  # noqa: F401  (registers the models)
from lightship.models.classifier import (
    RESIZE_MODES,
    Classifier,
    Preprocess,
    ResizeMode,
    resize_levels,
    resize_to,
)
from lightship.models.meta import ModelMeta
from lightship.models.registry import (
    UnknownModelError,
    create_model,
    default_image_size,
    describe_model,
    list_models,
    register_model,
)
from lightship.models.wrapper import InferenceWrapper

__all__ = [
    "RESIZE_MODES",
    "Classifier",
    "InferenceWrapper",
    "ModelMeta",
    "Preprocess",
    "ResizeMode",
    "UnknownModelError",
    "create_model",
    "default_image_size",
    "describe_model",
    "list_models",
    "register_model",
    "resize_levels",
    "resize_to",
]
