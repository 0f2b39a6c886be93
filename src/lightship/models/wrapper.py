"""The module every artifact is exported from: raw pixels in, (probs, logits) out.

It reuses the Classifier's own preprocessing steps so no artifact re-implements them. Unlike
``Preprocess.forward`` it ALWAYS resizes: a shape test would be frozen into a traced graph, while
resizing to the same size is an exact identity (bilinear sampling lands on the pixel centres), so the
artifact is correct for every height and width and still matches the eager model bit for bit.
"""

from __future__ import annotations

import torch
from torch import nn

from lightship.models.classifier import Classifier


class InferenceWrapper(nn.Module):
    """``uint8 N x H x W x 3`` (dynamic N, H, W) -> ``(probs, logits)``, float32, eval mode."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier.float()
        self.eval()  # the wrapper too, not only the classifier: exporters read the top module's mode

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pre = self.classifier.preprocess
        x = pre.normalize(pre.resize(pre.to_float(images)))
        logits = self.classifier.net(x)
        return logits.softmax(dim=-1), logits
