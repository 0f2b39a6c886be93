"""OpenVINO (CPU) backend for the IR artifact (model.xml + model.bin). Optional extra: lightship[openvino]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov  # the runtime table checks the extra is installed before importing this module

from lightship.runtime.backends import OUTPUTS


class OpenVinoBackend:
    def __init__(self, path: Path, threads: int) -> None:
        # f32 precision: on CPUs with AMX/AVX512-BF16 OpenVINO otherwise computes in bf16 (~1e-2 error).
        config = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",
        }
        self.compiled = ov.Core().compile_model(str(path), "CPU", config)
        self.request = self.compiled.create_infer_request()
        present = {name for output in self.compiled.outputs for name in output.get_names()}
        self.outputs = [name for name in OUTPUTS if name in present]

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        result = self.request.infer({"images": images})
        return tuple(np.array(result[name]) for name in self.outputs)


def load(path: Path, threads: int) -> OpenVinoBackend:
    return OpenVinoBackend(path, threads)
