"""The trained object: preprocessing and network in one module that takes raw pixels.

Input is ``uint8`` RGB, ``N x H x W x 3`` (NHWC), any height and width. The one preprocessing, in order,
defined here and nowhere else:

1. ``to_float``: uint8 NHWC -> float32 NCHW in 0..255;
2. ``resize`` to ``image_size`` square (antialiased bilinear, in one of two :data:`RESIZE_MODES`:
   :func:`resize_to`);
3. ``to_levels``: round to the nearest level (exact halves upward, see :func:`to_levels`) and clamp to
   0..255: the uint8 levels the data pipeline stores (:func:`lightship.data.decode.resize_images` calls
   :func:`resize_levels`, the same two steps);
4. ``normalize`` with the configured mean/std; then the network;
5. ``probabilities``: softmax of ``logits / temperature`` (temperature scaling, 1.0 = raw softmax).

Training decodes and resizes each image once and caches the rounded uint8 result; every artifact does steps
1-5 in its graph. Rounding inside the graph (step 3) is what makes the two the same function: measured in
``benchmarks/preprocess_options.py`` against the alternative (a pipeline that stops rounding), see
docs/benchmarks.md. An image already at ``image_size`` passes steps 2 and 3 unchanged (the resize is an exact
identity there and its values are already whole levels).
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


#: Added before rounding. Bilinear weights are exact fractions, so a resized pixel often lands exactly on a
#: half level; runtimes whose resize arithmetic differs from torch's by ~1e-4 (ONNX Runtime, OpenVINO:
#: measured up to 3e-4) would round such ties the other way. The nudge moves the rounding boundary off
#: those exact values (a pixel within 1/256 below a half rounds up): flips went from 0.024% of values to
#: none on 100 rescaled CIFAR-10 images (benchmarks/preprocess_options.py). It is exact in float32 and
#: leaves whole levels (every image already at the model's size) unchanged.
LEVEL_NUDGE = 1.0 / 256.0


def to_levels(x: torch.Tensor) -> torch.Tensor:
    """Float pixels -> the nearest uint8 level (exact halves upward: ``LEVEL_NUDGE``), as float."""
    return (x + LEVEL_NUDGE).round().clamp(0.0, 255.0)


def resize_levels(
    x: torch.Tensor, size: int, mode: str = "squash", method: str = "interpolate"
) -> torch.Tensor:
    """Float NCHW 0..255 -> the uint8 levels at ``size`` (as float): steps 2 and 3, for pipeline and graph.
    ``method`` as in :func:`resize_to`: both methods round to the same levels (tests/models/test_resize.py)."""
    return to_levels(resize_to(x, size, mode, method))


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
        #: Whether ``normalize`` returns channels-last memory (see there). The edge exporters turn it off:
        #: ExecuTorch's XNNPACK lowering of the layout change gave wrong logits (12% top-1 agreement on
        #: digits), and the layout never changes values, only which kernels eager torch picks.
        self.channels_last = True
        # mean/std are given for pixels in 0..1; stored scaled to 0..255 so the cast needs no division.
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    @staticmethod
    def to_float(pixels: torch.Tensor) -> torch.Tensor:
        """NHWC uint8 -> NCHW float32 in 0..255 (a channels-last view, no copy of layout)."""
        return pixels.permute(0, 3, 1, 2).float()

    def resize(self, x: torch.Tensor, valid: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Float NCHW -> ``image_size`` square in the model's resize mode, rounded to uint8 levels (steps 2
        and 3): every path to the network's input goes through here.

        ``valid`` (float32 ``1 x 1 x 1 x 1`` height and width) marks ``x`` as a fixed-size canvas whose
        top-left region holds the image (static-shape runtimes: :func:`lightship.models.resize.resize_canvas`);
        its result is rounded the same way, so every method gives the training path's levels.
        """
        if valid is not None:
            crop = self.resize_mode == "crop"
            return to_levels(resize_canvas(x, valid[0], valid[1], self.image_size, crop=crop))
        return resize_levels(x, self.image_size, self.resize_mode, self.resize_method)

    def levels(
        self, pixels: torch.Tensor, valid: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """uint8 NHWC of any size -> float NCHW levels at ``image_size`` (steps 1-3): the network's input
        before normalisation. Always resizes (an identity at ``image_size``), so a traced graph has no
        shape test frozen into it. ``valid`` as in :meth:`resize`."""
        return self.resize(self.to_float(pixels), valid)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Step 4, returned channels-last whatever the input's layout (an image at the model's size arrives
        as a channels-last view of NHWC pixels, a resized one as NCHW): convolutions pick their algorithm by
        layout, so one layout is what makes an off-size image's logits equal the training path's bit for bit.
        For images at the model's size (all of training) it is a no-op."""
        x = (x - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.to_float(pixels)
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            x = self.resize(x)
        return self.normalize(x)


class Classifier(nn.Module):
    """``Preprocess`` followed by a registry network; returns logits. ``temperature`` (a plain float, set
    from ``ModelMeta``) scales them in :meth:`probabilities` only: logits, loss and top-1 never change."""

    def __init__(
        self,
        net: nn.Module,
        image_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        resize: str = "squash",
        temperature: float = 1.0,
    ) -> None:
        super().__init__()
        self.preprocess = Preprocess(image_size, mean, std, resize)
        self.net = net
        self.temperature = float(temperature)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(pixels))

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Step 5: the calibrated probabilities every artifact's ``probs`` output holds."""
        return (logits / self.temperature).softmax(dim=-1)
