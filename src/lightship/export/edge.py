"""The inference wrapper as edge converters need it: the same function in operations they can lower.

LiteRT, ExecuTorch and Core ML have no dynamic-shape antialiased resize and no ``adaptive_max_pool2d``
kernel, so their exporters start from :func:`edge_wrapper`: a copy of the wrapper whose resize is the
matrix-product form (:mod:`lightship.models.resize`) and whose global max-pools are a ``max`` over the
flattened spatial axes (identical values), and whose network input stays in the default memory layout
(``Preprocess.channels_last``). Training and the other formats keep the native ops.
LiteRT's converter also needs static shapes: :class:`CanvasWrapper` takes a fixed-size canvas plus the
image's height and width, and resizes only that region (``Preprocess.resize(valid=...)``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lightship.models import InferenceWrapper


class GlobalMaxPool(nn.Module):
    """``AdaptiveMaxPool2d(1)`` as a max over the flattened spatial axes (identical values)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).max(dim=-1, keepdim=True).values.unsqueeze(-1)


def _replace_global_pools(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.AdaptiveMaxPool2d) and child.output_size in (1, (1, 1)):
            setattr(module, name, GlobalMaxPool())
        else:
            _replace_global_pools(child)


def edge_wrapper(wrapper: InferenceWrapper) -> InferenceWrapper:
    """A copy of ``wrapper`` with the matrix-product resize and converter-friendly global pooling."""
    edge = copy.deepcopy(wrapper)
    edge.classifier.preprocess.resize_method = "matmul"
    edge.classifier.preprocess.channels_last = False
    _replace_global_pools(edge)
    return edge.eval()


class CanvasWrapper(nn.Module):
    """``(images uint8 N x Hc x Wc x 3, size int32 [height, width]) -> {"probs", "logits", "pixels"}``
    (static graph).

    The image sits in the top-left ``height x width`` of the canvas (the rest is ignored padding);
    the result equals the dynamic wrapper's on the unpadded image. Outputs are a dict because converters
    name a signature's outputs after its keys.
    """

    def __init__(self, wrapper: InferenceWrapper) -> None:
        super().__init__()
        self.wrapper = edge_wrapper(wrapper)
        self.eval()

    def forward(self, images: torch.Tensor, size: torch.Tensor) -> dict[str, torch.Tensor]:
        hw = size.to(torch.float32)
        outputs = self.wrapper.classify(images, (hw[0:1].view(1, 1, 1, 1), hw[1:2].view(1, 1, 1, 1)))
        return dict(zip(InferenceWrapper.OUTPUTS, outputs, strict=True))
