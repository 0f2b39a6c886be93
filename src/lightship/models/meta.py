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
    temperature: float = 1.0
    """Temperature scaling of ``probs`` (1.0 = raw softmax). Fitted on a run's validation split
    (:mod:`lightship.training.calibration`); checkpoints keep 1.0, a run's ``calibration.json`` holds the
    fitted value and :func:`lightship.training.load_trained` applies it."""
    run: str | None = None
    """The run folder the model was loaded from, if any: ``export_bundle(classifier, meta)`` then calibrates
    and verifies on that run's data, as ``lightship export RUN`` does. A local path: never stored in
    checkpoints or bundles (:meth:`portable`)."""
    resize: str = "squash"
    """How a picture becomes a square (lightship.models.classifier.RESIZE_MODES); "squash" for checkpoints
    written before the choice existed."""
    pretrained: dict[str, Any] | None = None
    """The weights training started from (name, source, licence, ...), None when from scratch."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def portable(self) -> dict[str, Any]:
        """:meth:`to_dict` without where this machine keeps the run (what checkpoints and bundles store)."""
        return {**self.to_dict(), "run": None}

    def build(self) -> Classifier:
        """A fresh, untrained classifier of this architecture."""
        net = create_model(self.model, self.num_classes, **self.model_kwargs)
        return Classifier(net, self.image_size, self.mean, self.std, self.resize, self.temperature)
