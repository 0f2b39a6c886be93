"""The antialiased bilinear resize as two matrix products, for runtimes without a dynamic native one.

``F.interpolate(mode="bilinear", antialias=True, align_corners=False)`` lowers to
``aten::_upsample_bilinear2d_aa``, which ONNX expresses as ``Resize(antialias=1)`` but LiteRT, ExecuTorch
and Core ML cannot run with dynamic height and width. The operation is separable: each output column is
a weighted sum of input columns, each output row of input rows. So it is ``Wh @ x @ Ww.T`` with
``Wh`` (size x H) and ``Ww`` (size x W), and those weights are computed *inside the graph* from the
input's height and width, so the exported program keeps dynamic shapes and needs only cumsum, sum,
arithmetic, relu and matmul: operations every runtime has.

The weights follow ATen's ``_compute_indices_min_size_weights_aa`` for float input: ``scale = in / out``
(float32), ``support = scale`` when downscaling (the triangle filter widened by the scale: the
antialiasing) else 1, ``center = scale * (i + 0.5)``, weight of input ``j`` =
``max(0, 1 - |(j - center + 0.5) * invscale|)`` with ``invscale = 1 / scale`` when downscaling else 1,
each row divided by its sum. ATen only visits ``j`` in ``[trunc(center - support + 0.5),
trunc(center + support + 0.5))``; outside that window the triangle is already zero, so a dense row holds
the same weights. ATen rounds some intermediates in double, this graph in float32, and sums in another
order: the weights agree within 1e-6 and the resized pixels (0..255) within 3e-4
(tests/models/test_resize.py measures both).

Every tensor stays 4-D and every length comes from a reduction of the input (``sum`` over the other
axes, ``ones_like``, ``cumsum``), never ``arange(n)``, a slice or a reshape to a symbolic size: LiteRT's
converter lowers none of those with dynamic sizes. The reductions cost O(N*C*H*W), nothing beside the
products.

The cost is a dense product: O(H * W * size) multiply-adds instead of O(H * W * support). For a
camera photo resized to 224 that is a few GFLOP, which is why a format that uses it may state a
largest input (``max_input`` in the manifest).
"""

from __future__ import annotations

import torch


def aa_weights(positions: torch.Tensor, in_size: torch.Tensor, size: int) -> torch.Tensor:
    """``1 x 1 x size x n`` antialiased bilinear weights resizing ``in_size`` samples to ``size``.

    ``positions`` (float32 ``1 x 1 x 1 x n``) are the input sample indices relative to the first sample of
    the image and ``in_size`` (float32 ``1 x 1 x 1 x 1``) how many samples it has: samples before 0 or at or
    past ``in_size`` get weight 0, so a padded canvas or a cropped window resizes exactly like the region.
    """
    scale = in_size / float(size)
    invscale = torch.where(scale >= 1.0, 1.0 / scale, torch.ones_like(scale))
    outputs = torch.arange(size, dtype=torch.float32, device=positions.device).view(1, 1, size, 1)
    center = scale * (outputs + 0.5)
    weights = torch.relu(1.0 - ((positions - center + 0.5) * invscale).abs())
    weights = weights * ((positions >= 0.0) & (positions < in_size)).to(weights.dtype)
    return weights / weights.sum(-1, keepdim=True)


def _window(
    height: torch.Tensor, width: torch.Tensor, crop: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """First row, first column and the sizes of the region to resize: the whole image, or with ``crop``
    its centred ``min(H, W)`` square (the odd pixel to the bottom/right, as ``centre_square``)."""
    if not crop:
        return torch.zeros_like(height), torch.zeros_like(width), height, width
    side = torch.minimum(height, width)
    return torch.floor((height - side) * 0.5), torch.floor((width - side) * 0.5), side, side


def _axis(ones: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions 0..n-1 and n (float32) for a ``1 x 1 x 1 x n`` tensor of ones of the input's length."""
    return ones.cumsum(-1) - 1.0, ones.sum(-1, keepdim=True)  # exact in float32 up to 2**24


def resize_matmul(x: torch.Tensor, size: int, crop: bool = False) -> torch.Tensor:
    """float ``N x C x H x W`` -> ``N x C x size x size``: the function of ``resize_to`` (see module).

    ``crop`` resizes the centred square (resize mode "crop") by giving the rest weight 0, with no slice.
    """
    cols, width = _axis(torch.ones_like(x.sum((0, 1, 2), keepdim=True)))
    rows, height = _axis(torch.ones_like(x.sum((0, 1, 3), keepdim=True)).transpose(-1, -2))
    top, left, height, width = _window(height, width, crop)
    # Width first, as ATen does: the intermediate is N x C x H x size.
    return aa_weights(rows - top, height, size) @ (x @ aa_weights(cols - left, width, size).transpose(-1, -2))


def resize_canvas(
    x: torch.Tensor, height: torch.Tensor, width: torch.Tensor, size: int, crop: bool = False
) -> torch.Tensor:
    """Resize the top-left ``height x width`` region of a fixed-size float canvas ``N x C x Hc x Wc``.

    For converters that only take static shapes (LiteRT): the caller pads the image into the canvas
    and passes its size (float32 ``1 x 1 x 1 x 1`` tensors), the weights ignore the padding, and the
    result equals ``resize_matmul`` of the unpadded image (``crop`` as there).
    """
    canvas_h, canvas_w = x.shape[-2], x.shape[-1]
    rows = torch.arange(canvas_h, dtype=torch.float32, device=x.device).view(1, 1, 1, canvas_h)
    cols = torch.arange(canvas_w, dtype=torch.float32, device=x.device).view(1, 1, 1, canvas_w)
    top, left, height, width = _window(height, width, crop)
    return aa_weights(rows - top, height, size) @ (x @ aa_weights(cols - left, width, size).transpose(-1, -2))
