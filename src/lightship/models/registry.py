"""Models by name, in the style of timm's registry: adding a model is one decorated function.

Every entry builds a network that takes a normalised float batch ``N x 3 x H x W`` and returns logits.
Names not registered here fall through to torchvision's own registry (``resnet50``,
``mobilenet_v3_small``, ``efficientnet_b0``, ``convnext_tiny``, ``vit_b_16``, ...), and names with the
``timm/`` prefix to timm's (``timm/convnext_nano``, ``timm/resnet18.a1_in1k``: an architecture, optionally
with a pretrained tag). Networks are always built untrained here; :mod:`lightship.models.pretrained`
loads published weights into them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torchvision
from torch import nn

from lightship.errors import LightshipError
from lightship.models.weights import load_weights

ModelFactory = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: how to build it and the input size it was designed for."""

    name: str
    factory: ModelFactory
    default_image_size: int
    description: str


_REGISTRY: dict[str, ModelEntry] = {}
#: Prefix of the names that timm builds.
TIMM_PREFIX = "timm/"


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


def timm_model_names() -> list[str]:
    """timm's architectures, as ``timm/<name>``."""
    import timm

    return [TIMM_PREFIX + name for name in timm.list_models()]


def is_timm(name: str) -> bool:
    return name.startswith(TIMM_PREFIX)


def list_models() -> list[str]:
    """Every model name :func:`create_model` accepts: lightship's own first, then torchvision's, then timm's
    architectures (a timm name may also carry a pretrained tag, ``timm/convnext_nano.in12k_ft_in1k``)."""
    own = sorted(_REGISTRY)
    return own + [n for n in torchvision_model_names() if n not in _REGISTRY] + timm_model_names()


def describe_model(name: str) -> str:
    """One line about model ``name``: its registered description, or where it comes from."""
    if name in _REGISTRY:
        return _REGISTRY[name].description
    return "timm" if is_timm(name) else "torchvision"


def default_image_size(name: str) -> int:
    """The input size a model was designed for (224 for torchvision models; timm's from its config)."""
    if name in _REGISTRY:
        return _REGISTRY[name].default_image_size
    if is_timm(name):
        import timm

        return int(timm.models.get_pretrained_cfg(name[len(TIMM_PREFIX) :]).input_size[-1])
    return 224


class UnknownModelError(LightshipError, KeyError):
    """A model name that is neither registered nor a torchvision classification model."""

    def __str__(self) -> str:
        return str(self.args[0])


def create_model(
    name: str, num_classes: int, weights: str | Path | None = None, **kwargs: object
) -> nn.Module:
    """Build model ``name`` with ``num_classes`` outputs; optionally load a local weights file.

    ``weights`` is anything :func:`lightship.models.weights.load_weights` reads (a state_dict, a checkpoint,
    a run or bundle folder); tensors whose shape does not fit (a classifier head trained for another number
    of classes) are left at their fresh initialisation, for fine-tuning. Nothing is ever downloaded.
    """
    if name in _REGISTRY:
        model = _REGISTRY[name].factory(num_classes=num_classes, **kwargs)
    elif is_timm(name) and _timm_knows(name[len(TIMM_PREFIX) :]):
        import timm

        model = timm.create_model(
            name[len(TIMM_PREFIX) :], pretrained=False, num_classes=num_classes, **kwargs
        )
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
        load_weights(model, weights)
    return model


def _timm_knows(name: str) -> bool:
    """Whether timm builds ``name`` (an architecture, optionally with ``.tag``)."""
    import timm

    return timm.is_model(name.partition(".")[0])
