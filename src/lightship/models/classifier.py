"""The trained object: preprocessing and network in one module that takes raw pixels.

Input is ``uint8`` RGB, ``N x H x W x 3`` (NHWC), any height and width. Inside: cast to float, resize to
the configured size (antialiased bilinear: the one resize policy of lightship, in one of two
:data:`RESIZE_MODES`), normalise with the configured mean/std, run the network. Training, evaluation and every exported
artifact use this same code, so no platform ever re-implements preprocessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lightship.models.resize import resize_canvas, resize_matmul

#: How the one resize policy is computed: ATen's kernel, or the same weights as two matrix products
#: (:mod:`lightship.models.resize`) for runtimes without a dynamic antialiased resize.
RESIZE_METHODS = ("interpolate", "matmul")

ResizeMode = Literal["squash", "crop"]
#: How a picture becomes a square: "squash" resizes the whole picture (aspect ratio not kept); "crop" keeps
#: the aspect ratio: the centred square of side min(H, W), then the same resize (= resize the shorter side
#: to ``size``, then centre-crop ``size x size``: the evaluation transform pretrained models are shown).
RESIZE_MODES: tuple[str, ...] = ("squash", "crop")


@torch.jit.script_if_tracing
def centre_square(x: torch.Tensor) -> torch.Tensor:
    """The centred ``min(H, W)`` square of float NCHW ``x`` (the odd pixel goes to the bottom/right).

    Written once for every way a model leaves PyTorch: eager and the data pipeline run it as Python; a
    TorchScript trace (TorchScript, OpenVINO) scripts it, so the sizes stay computed from the input instead
    of being frozen to the example's; ``torch.export`` (ONNX) sees ``sym_min``, which keeps both "portrait"
    and "landscape" in one graph where Python's ``min`` would specialise to the example's orientation.
    ``narrow`` (not slicing) gives the exact length; the ``_check`` calls tell the exporter it is positive.
    The matrix-product resize crops in its weights instead (:mod:`lightship.models.resize`).
    """
    height, width = x.shape[-2], x.shape[-1]
    if torch.jit.is_scripting():  # noqa: SIM108 (TorchScript drops the unused branch only in an if statement)
        side = min(height, width)
    else:
        side = torch.sym_min(height, width)
    square = x.narrow(-2, (height - side) // 2, side).narrow(-1, (width - side) // 2, side)
    if not torch.jit.is_scripting():
        torch._check(square.shape[-2] > 0)
        torch._check(square.shape[-1] > 0)
    return square


def resize_to(x: torch.Tensor, size: int, mode: str = "squash", method: str = "interpolate") -> torch.Tensor:
    """The one resize policy: float NCHW -> ``size x size``, antialiased bilinear, after the centre crop of
    ``mode="crop"`` (see :data:`RESIZE_MODES`). Both modes leave a ``size x size`` input unchanged.

    Used inside every artifact and (followed by rounding to uint8) when the data pipeline decodes images.
    ``method`` picks how it is computed (``RESIZE_METHODS``); both give the same pixels within 3e-4 levels.
    """
    if method == "matmul":
        return resize_matmul(x, size, crop=mode == "crop")
    if method != "interpolate":
        raise ValueError(f"unknown resize method {method!r}; choose one of {', '.join(RESIZE_METHODS)}")
    if mode == "crop":
        x = centre_square(x)
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


class Preprocess(nn.Module):
    """uint8 NHWC pixels -> normalised float NCHW at ``image_size`` (the steps are public for TTA/export)."""

    def __init__(
        self, image_size: int, mean: Sequence[float], std: Sequence[float], resize: str = "squash"
    ) -> None:
        super().__init__()
        if resize not in RESIZE_MODES:
            raise ValueError(f"resize mode {resize!r} is not one of {', '.join(RESIZE_MODES)}")
        self.image_size = int(image_size)
        self.resize_mode = resize
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
        crop = self.resize_mode == "crop"
        if valid is not None:
            return resize_canvas(x, valid[0], valid[1], self.image_size, crop=crop)
        return resize_to(x, self.image_size, self.resize_mode, self.resize_method)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.to_float(pixels)
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            x = self.resize(x)
        return self.normalize(x)


class Classifier(nn.Module):
    """``Preprocess`` followed by a registry network; returns logits."""

    def __init__(
        self,
        net: nn.Module,
        image_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        resize: str = "squash",
    ) -> None:
        super().__init__()
        self.preprocess = Preprocess(image_size, mean, std, resize)
        self.net = net

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(pixels))
