"""LiteRT after ONNX Runtime, for the ``web-litert`` artifact: the two stages the web page runs on WebAssembly.

The page's fastest CPU path is LiteRT.js (XNNPACK compiled with WebAssembly's relaxed SIMD), but a
``.tflite`` graph has static shapes (see ``lightship.export.formats.tflite``), and the dynamic-shape
antialiased resize is what the ONNX graph does well. So the artifact is two graphs exported from the same
wrapper: ``model.web.pixels.onnx`` (uint8 ``1 x H x W x 3`` of any size -> ``pixels``, the resized levels,
exactly the ``pixels`` output of ``model.onnx``) and ``model.web.tflite`` (``pixels`` ``1 x 3 x S x S`` ->
``probs``, ``logits``). This backend chains them the way the page does, so verification checks what the
page runs. The network graph takes one image per call. Optional extra: lightship[litert].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The runtime table checks the extra is installed before importing this module.
from ai_edge_litert.interpreter import Interpreter

from lightship.runtime.backends.onnxruntime import OrtBackend


def pixels_graph(network: Path) -> Path:
    """The preprocessing graph beside the network graph: ``model.web.tflite`` -> ``model.web.pixels.onnx``."""
    return network.with_name(f"{network.stem}.pixels.onnx")


class LiteRtWebBackend:
    def __init__(self, path: Path, threads: int) -> None:
        self.pixels = OrtBackend(pixels_graph(path), threads)
        self.runner = Interpreter(model_path=str(path), num_threads=threads).get_signature_runner()

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        (pixels,) = self.pixels.run(images)
        outs = [self.runner(pixels=image[None]) for image in pixels]
        probs, logits = (np.concatenate([out[name] for out in outs]) for name in ("probs", "logits"))
        return probs, logits, pixels


def load(path: Path, threads: int) -> LiteRtWebBackend:
    return LiteRtWebBackend(path, threads)
