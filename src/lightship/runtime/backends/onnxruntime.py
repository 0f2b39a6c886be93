"""ONNX Runtime (CPU) backend for the fp32 and int8 ONNX artifacts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort


class OrtBackend:
    def __init__(self, path: Path, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, logits = self.session.run(["probs", "logits"], {"images": images})
        return probs, logits


def load(path: Path, threads: int) -> OrtBackend:
    return OrtBackend(path, threads)
