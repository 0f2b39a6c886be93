"""``ModelMeta``: everything needed to rebuild a trained classifier and label its outputs.

It travels as plain types (a dict) in every checkpoint (``hyper_parameters["lightship"]``) and in every
bundle's ``reference.pt``, so both load with ``torch.load(weights_only=True)`` and rebuild the exact
:class:`~lightship.models.classifier.Classifier` without the training code or the data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lightship.models.classifier import Classifier
from lightship.models.registry import create_model


@dataclass
class ModelMeta:
    """The architecture (registry name and factory kwargs), the classes, and the input preprocessing."""

    model: str
    num_classes: int
    class_names: list[str]
    image_size: int
    mean: list[float]
    std: list[float]
    model_kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def build(self) -> Classifier:
        """A fresh, untrained classifier of this architecture."""
        net = create_model(self.model, self.num_classes, **self.model_kwargs)
        return Classifier(net, self.image_size, self.mean, self.std)
