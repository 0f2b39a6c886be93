"""``web-litert``: the bundle as the web page runs it on WebAssembly, preprocessing in ONNX and the network
in LiteRT (see :mod:`lightship.runtime.backends.litert_web` for why two graphs).

Both graphs come from the one wrapper every artifact is exported from: ``model.web.pixels.onnx`` is its
preprocessing (``Preprocess.levels``, the native antialiased resize, dynamic height and width) and
``model.web.tflite`` its network and probabilities at the model's size (static, batch 1, through the
converter-friendly :func:`lightship.export.edge.edge_wrapper`). Verified like every artifact, through the
two stages chained. Optional extra: lightship[litert].
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import torch
from torch import nn

from lightship.export.edge import edge_wrapper
from lightship.export.formats import Artifact, ExportContext
from lightship.export.formats.onnx import export_onnx
from lightship.export.formats.tflite import convert
from lightship.models import InferenceWrapper
from lightship.runtime.backends.litert_web import pixels_graph


class PixelsStage(nn.Module):
    """``images`` uint8 ``N x H x W x 3`` -> ``pixels`` (the wrapper's third output, nothing else)."""

    def __init__(self, wrapper: InferenceWrapper) -> None:
        super().__init__()
        self.preprocess = wrapper.classifier.preprocess
        self.eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.preprocess.levels(images)


class NetworkStage(nn.Module):
    """``pixels`` float32 ``1 x 3 x S x S`` -> ``{"probs", "logits"}`` (the wrapper's first two outputs)."""

    def __init__(self, wrapper: InferenceWrapper) -> None:
        super().__init__()
        self.classifier = edge_wrapper(wrapper).classifier
        self.eval()

    def forward(self, pixels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.classifier.net(self.classifier.preprocess.normalize(pixels))
        return {"probs": self.classifier.probabilities(logits), "logits": logits}


def export(ctx: ExportContext, path: Path) -> Artifact:
    pixels = export_onnx(PixelsStage(ctx.wrapper), ctx, pixels_graph(path), output_names=("pixels",))
    side = ctx.wrapper.classifier.preprocess.image_size
    convert(NetworkStage(ctx.wrapper), {"pixels": torch.zeros(1, 3, side, side)}, path)
    versions = {
        **pixels.versions,
        "litert_torch": version("litert-torch"),
        "ai_edge_litert": version("ai-edge-litert"),
        "inputs": f"{pixels.main.name}: images uint8 1xHxWx3 -> pixels; {path.name}: pixels 1x3x{side}x{side}",
    }
    return Artifact(path, [path, pixels.main], versions)
