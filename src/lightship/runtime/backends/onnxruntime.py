"""ONNX Runtime backend for the ONNX artifacts (fp32, fp16, int8), on the CPU or on a CUDA GPU.

``device="cuda"`` selects the CUDAExecutionProvider, which only the ``onnxruntime-gpu`` build has
(``pip install onnxruntime-gpu`` in place of ``onnxruntime``) and which needs an NVIDIA GPU with its
driver. ONNX Runtime silently falls back to the CPU when the provider cannot start, so the session's
providers are checked after creation: asking for CUDA and not getting it is an error, never a slow
surprise. Nodes CUDA has no kernel for still run on the CPU provider listed after it. TF32 is turned off
for float32 artifacts (:func:`cuda_options`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from lightship.errors import LightshipError
from lightship.runtime.backends import OUTPUTS

CUDA = "CUDAExecutionProvider"


class DeviceUnavailableError(LightshipError):
    """The requested device cannot be used by this ONNX Runtime installation or machine."""


def cuda_options(precision: str) -> dict[str, str]:
    """CUDA provider options for an artifact of ``precision`` (its manifest entry's).

    TF32 off for float32 arithmetic (fp32, and the float parts of int8 graphs): ONNX Runtime's CUDA provider
    uses TF32 tensor cores by default, whose 10-bit mantissa moved probabilities by 5.4e-4 on the CIFAR-10
    model (NVIDIA H200, onnxruntime-gpu 1.31.1), beyond the 1e-4 fp32 gate; without it 1.4e-6, at the same
    0.06 ms/image (docs/benchmarks.md, "GPU"). fp16 artifacts compute in half precision, which TF32 does not
    touch, so they keep the defaults.
    """
    return {} if precision == "fp16" else {"use_tf32": "0"}


def providers(device: str, precision: str = "fp32") -> list[str | tuple[str, dict[str, str]]]:
    """The session's execution providers for ``device``; CUDA's carry :func:`cuda_options`."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if CUDA not in ort.get_available_providers():
        raise DeviceUnavailableError(
            f"device 'cuda' needs onnxruntime-gpu: this onnxruntime {ort.__version__} offers only "
            f"{', '.join(ort.get_available_providers())}. Run `pip uninstall -y onnxruntime && pip install "
            "onnxruntime-gpu` (a build matching your CUDA), or use device 'cpu'."
        )
    return [(CUDA, cuda_options(precision)), "CPUExecutionProvider"]


class OrtBackend:
    def __init__(self, path: Path, threads: int, device: str = "cpu", precision: str = "fp32") -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No memory arena: the artifact casts a whole image to float before resizing it (~18 bytes per
        # pixel in all), and an arena keeps that peak, grown further by fragmentation, for the life of the
        # process; plain allocations go back to the system. No speed difference measured for batches of
        # small images (docs/serving.md).
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(str(path), options, providers=providers(device, precision))
        if device == "cuda" and self.session.get_providers()[0] != CUDA:
            raise DeviceUnavailableError(
                f"ONNX Runtime could not start CUDA for {path} (session providers: "
                f"{', '.join(self.session.get_providers())}): check the NVIDIA driver and that the CUDA and "
                "cuDNN libraries of your onnxruntime-gpu build are installed, or use device 'cpu'."
            )
        present = {output.name for output in self.session.get_outputs()}
        self.outputs = [name for name in OUTPUTS if name in present]

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(self.outputs, {"images": images}))


def load(path: Path, threads: int, device: str = "cpu", precision: str = "fp32") -> OrtBackend:
    return OrtBackend(path, threads, device, precision)
