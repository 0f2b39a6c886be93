"""ONNX Runtime (CPU) backend for the fp32 and int8 ONNX artifacts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from lightship.runtime.backends import OUTPUTS


class OrtBackend:
    def __init__(self, path: Path, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No memory arena: the artifact casts a whole image to float before resizing it (~18 bytes per
        # pixel in all), and an arena keeps that peak, grown further by fragmentation, for the life of the
        # process; plain allocations go back to the system. No speed difference measured for batches of
        # small images (docs/serving.md).
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        present = {output.name for output in self.session.get_outputs()}
        self.outputs = [name for name in OUTPUTS if name in present]

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(self.outputs, {"images": images}))


def load(path: Path, threads: int) -> OrtBackend:
    return OrtBackend(path, threads)
