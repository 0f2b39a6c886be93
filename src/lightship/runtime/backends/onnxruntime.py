"""ONNX Runtime backend for the ONNX artifacts (fp32, fp16, int8), on the CPU or on a CUDA GPU.

``device="cuda"`` selects the CUDAExecutionProvider, which only the ``onnxruntime-gpu`` build has
(``pip install onnxruntime-gpu`` in place of ``onnxruntime``) and which needs an NVIDIA GPU with its
driver. ONNX Runtime silently falls back to the CPU when the provider cannot start, so the session's
providers are checked after creation: asking for CUDA and not getting it is an error, never a slow
surprise. Nodes CUDA has no kernel for still run on the CPU provider listed after it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from lightship.errors import LightshipError

CUDA = "CUDAExecutionProvider"


class DeviceUnavailableError(LightshipError):
    """The requested device cannot be used by this ONNX Runtime installation or machine."""


def _providers(device: str) -> list[str]:
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if CUDA not in ort.get_available_providers():
        raise DeviceUnavailableError(
            f"device 'cuda' needs onnxruntime-gpu: this onnxruntime {ort.__version__} offers only "
            f"{', '.join(ort.get_available_providers())}. Run `pip uninstall -y onnxruntime && pip install "
            "onnxruntime-gpu` (a build matching your CUDA), or use device 'cpu'."
        )
    return [CUDA, "CPUExecutionProvider"]


class OrtBackend:
    def __init__(self, path: Path, threads: int, device: str = "cpu") -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=_providers(device))
        if device == "cuda" and self.session.get_providers()[0] != CUDA:
            raise DeviceUnavailableError(
                f"ONNX Runtime could not start CUDA for {path} (session providers: "
                f"{', '.join(self.session.get_providers())}): check the NVIDIA driver and that the CUDA and "
                "cuDNN libraries of your onnxruntime-gpu build are installed, or use device 'cpu'."
            )

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, logits = self.session.run(["probs", "logits"], {"images": images})
        return probs, logits


def load(path: Path, threads: int, device: str = "cpu") -> OrtBackend:
    return OrtBackend(path, threads, device)
