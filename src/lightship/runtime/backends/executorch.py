"""ExecuTorch backend for the ``.pte`` program (XNNPACK delegate). Optional extra: lightship[executorch].

The program was memory-planned for an upper bound of batch, height and width (its input's planned
sizes); batches larger than its batch bound are split, images larger than its height/width bound are
refused by the manifest's ``max_input`` before they reach it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

# The runtime table checks the extra is installed before importing this module.
from executorch.extension.pybindings import portable_lib
from executorch.runtime import Runtime


class ExecuTorchBackend:
    def __init__(self, path: Path, threads: int) -> None:
        # XNNPACK's thread pool is process-wide (like torch's): the last loaded backend's count wins.
        portable_lib._unsafe_reset_threadpool(threads)
        program = Runtime.get().load_program(str(path))
        self.max_batch = int(program.metadata("forward").input_tensor_meta(0).sizes()[0])
        self.method = program.load_method("forward")

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        parts = []
        for start in range(0, len(images), self.max_batch):
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + self.max_batch]))
            parts.append([output.numpy() for output in self.method.execute([batch])])
        return tuple(np.concatenate(outputs) for outputs in zip(*parts, strict=True))


def load(path: Path, threads: int) -> ExecuTorchBackend:
    return ExecuTorchBackend(path, threads)
