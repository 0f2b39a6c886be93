"""The trained object: preprocessing and network in one module that takes raw pixels.

Input is ``uint8`` RGB, ``N x H x W x 3`` (NHWC), any height and width. Inside: cast to float, resize to
the configured size (antialiased bilinear, aspect ratio not kept: the one resize policy of lightship),
normalise with the configured mean/std, run the network. Training, evaluation and every exported
artifact use this same code, so no platform ever re-implements preprocessing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lightship.models.resize import resize_canvas, resize_matmul

#: How the one resize policy is computed: ATen's kernel, or the same weights as two matrix products
#: (:mod:`lightship.models.resize`) for runtimes without a dynamic antialiased resize.
RESIZE_METHODS = ("interpolate", "matmul")


def resize_to(x: torch.Tensor, size: int, method: str = "interpolate") -> torch.Tensor:
    """The one resize policy: float NCHW -> ``size x size``, antialiased bilinear, aspect ratio not kept.

    Used inside every artifact and (followed by rounding to uint8) when the data pipeline decodes images.
    ``method`` picks how it is computed (``RESIZE_METHODS``); both give the same pixels within 3e-4 levels.
    """
    if method == "matmul":
        return resize_matmul(x, size)
    if method != "interpolate":
        raise ValueError(f"unknown resize method {method!r}; choose one of {', '.join(RESIZE_METHODS)}")
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


class Preprocess(nn.Module):
    """uint8 NHWC pixels -> normalised float NCHW at ``image_size`` (the steps are public for TTA/export)."""

    def __init__(self, image_size: int, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.image_size = int(image_size)
        #: One of RESIZE_METHODS; exporters whose runtime lacks a dynamic antialiased resize pick "matmul".
        self.resize_method = "interpolate"
        # mean/std are given for pixels in 0..1; stored scaled to 0..255 so the cast needs no division.
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    @staticmethod
    def to_float(pixels: torch.Tensor) -> torch.Tensor:
        """NHWC uint8 -> NCHW float32 in 0..255 (a channels-last view, no copy of layout)."""
        return pixels.permute(0, 3, 1, 2).float()

    def resize(self, x: torch.Tensor, valid: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Float NCHW -> ``image_size`` square: every path to the network's input goes through here.

        ``valid`` (float32 ``1 x 1 x 1 x 1`` height and width) marks ``x`` as a fixed-size canvas whose
        top-left region holds the image (static-shape runtimes: :func:`lightship.models.resize.resize_canvas`).
        """
        if valid is not None:
            return resize_canvas(x, valid[0], valid[1], self.image_size)
        return resize_to(x, self.image_size, self.resize_method)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.to_float(pixels)
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            x = self.resize(x)
        return self.normalize(x)


class Classifier(nn.Module):
    """``Preprocess`` followed by a registry network; returns logits."""

    def __init__(self, net: nn.Module, image_size: int, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.preprocess = Preprocess(image_size, mean, std)
        self.net = net

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(pixels))
