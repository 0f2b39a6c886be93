"""TorchScript backend. Note torch's thread count is per process: the last one set wins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


class TorchScriptBackend:
    def __init__(self, path: Path, threads: int) -> None:
        torch.set_num_threads(threads)
        self.module = torch.jit.load(str(path), map_location="cpu").eval()

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        with torch.inference_mode():
            outputs = self.module(torch.from_numpy(images))
        return tuple(output.numpy() for output in outputs)


def load(path: Path, threads: int) -> TorchScriptBackend:
    return TorchScriptBackend(path, threads)
