"""LiteRT (TensorFlow Lite) backend for the ``tflite`` artifacts. Optional extra: lightship[litert].

The .tflite graph has static shapes (litert-torch cannot convert dynamic ones, see
``lightship.export.formats.tflite``): it takes one image on a fixed canvas ``1 x Hc x Wc x 3`` plus the
image's ``[height, width]``, and resizes only that region. So each image is copied into the top-left
of the canvas and run alone; the rest of the canvas is never read by the resize (its weights there are
zero), so it is not cleared between images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The runtime table checks the extra is installed before importing this module.
from ai_edge_litert.interpreter import Interpreter

from lightship.runtime.backends import OUTPUTS, check_image_size


class LiteRtBackend:
    def __init__(self, path: Path, threads: int) -> None:
        self.name = path.name
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.runner = self.interpreter.get_signature_runner()
        shape = self.runner.get_input_details()["images"]["shape"]
        self.canvas = np.zeros(tuple(int(d) for d in shape), dtype=np.uint8)
        present = self.runner.get_output_details()
        self.outputs = [name for name in OUTPUTS if name in present]

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        check_image_size(images, self.canvas.shape[1:3], self.name)
        height, width = images.shape[1], images.shape[2]
        size = np.array([height, width], dtype=np.int32)
        outs = []
        for image in images:
            self.canvas[0, :height, :width] = image
            outs.append(self.runner(images=self.canvas, size=size))
        return tuple(np.concatenate([out[name] for out in outs]) for name in self.outputs)


def load(path: Path, threads: int) -> LiteRtBackend:
    return LiteRtBackend(path, threads)
