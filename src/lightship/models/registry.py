"""Models by name, in the style of timm's registry: adding a model is one decorated function.

Every entry builds a network that takes a normalised float batch ``N x 3 x H x W`` and returns logits.
Names not registered here fall through to torchvision's own registry (``resnet50``,
``mobilenet_v3_small``, ``efficientnet_b0``, ``convnext_tiny``, ``vit_b_16``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

from lightship.errors import LightshipError

ModelFactory = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: how to build it and the input size it was designed for."""

    name: str
    factory: ModelFactory
    default_image_size: int
    description: str


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str, default_image_size: int, description: str
) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator: ``@register_model("airbench", 32, "...")`` on ``def factory(num_classes, **kw)``."""

    def wrap(factory: ModelFactory) -> ModelFactory:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(name, factory, default_image_size, description)
        return factory

    return wrap


def torchvision_model_names() -> list[str]:
    """Classification models torchvision can build (no detection/segmentation/video)."""
    return sorted(torchvision.models.list_models(module=torchvision.models))


def list_models() -> list[str]:
    """Every model name :func:`create_model` accepts: lightship's own first, then torchvision's."""
    return sorted(_REGISTRY) + [n for n in torchvision_model_names() if n not in _REGISTRY]


def describe_model(name: str) -> str:
    """One line about model ``name``: its registered description, or where it comes from."""
    return _REGISTRY[name].description if name in _REGISTRY else "torchvision"


def default_image_size(name: str) -> int:
    """The input size a model was designed for (224 for torchvision models)."""
    return _REGISTRY[name].default_image_size if name in _REGISTRY else 224


class UnknownModelError(LightshipError, KeyError):
    """A model name that is neither registered nor a torchvision classification model."""

    def __str__(self) -> str:
        return str(self.args[0])


def create_model(
    name: str, num_classes: int, weights: str | Path | None = None, **kwargs: object
) -> nn.Module:
    """Build model ``name`` with ``num_classes`` outputs; optionally load a local weights file.

    ``weights`` is a ``state_dict`` file (``.pt``/``.pth``); tensors whose shape does not fit (a classifier
    head trained for another number of classes) are left at their fresh initialisation, for fine-tuning.
    Nothing is ever downloaded.
    """
    if name in _REGISTRY:
        model = _REGISTRY[name].factory(num_classes=num_classes, **kwargs)
    elif name in torchvision_model_names():
        model = torchvision.models.get_model(name, weights=None, num_classes=num_classes, **kwargs)
    else:
        import difflib

        close = difflib.get_close_matches(name, list_models(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}.{hint} Run `lightship models` to list the {len(list_models())} known names."
        )
    if weights is not None:
        load_pretrained(model, Path(weights))
    return model


def load_pretrained(model: nn.Module, path: Path) -> list[str]:
    """Load a local ``state_dict`` into ``model``, skipping shape mismatches; returns the skipped keys."""
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist; pass a local .pt/.pth state_dict")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ValueError(
            f"{path}: none of its tensors fit this model; is it a state_dict for the same architecture?"
        )
    model.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))
