"""The module every artifact is exported from: raw pixels in, (probs, logits, pixels) out.

It reuses the Classifier's own steps (:mod:`lightship.models.classifier`) so no artifact re-implements them.
Unlike ``Preprocess.forward`` it ALWAYS resizes: a shape test would be frozen into a traced graph, while
resizing to the same size is an exact identity (bilinear sampling lands on the pixel centres), so the
artifact is correct for every height and width and still matches the eager model bit for bit.

The third output, ``pixels``, is the network's input before normalisation (float32 ``N x 3 x S x S``,
whole uint8 levels). Verification compares it with the training data path's pixels *inside the artifact
that ships* (not in a separate export of the preprocessing, which could differ from the shipped graph), so
a resize that differs from training's is caught at the pixel where it happens. It costs one small output
buffer per call (3 x S x S floats); callers that only want scores ignore it.
"""

from __future__ import annotations

import torch
from torch import nn

from lightship.models.classifier import Classifier


class InferenceWrapper(nn.Module):
    """``uint8 N x H x W x 3`` (dynamic N, H, W) -> ``(probs, logits, pixels)``, float32, eval mode."""

    OUTPUTS = ("probs", "logits", "pixels")

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier.float()
        self.eval()  # the wrapper too, not only the classifier: exporters read the top module's mode

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.classify(images)

    def classify(
        self, images: torch.Tensor, valid: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``forward``; ``valid`` marks ``images`` as a padded canvas (see ``Preprocess.resize``)."""
        classifier = self.classifier
        pixels = classifier.preprocess.levels(images, valid)
        logits = classifier.net(classifier.preprocess.normalize(pixels))
        return classifier.probabilities(logits), logits, pixels
