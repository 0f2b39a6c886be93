"""Core ML backend for the ``.mlpackage`` artifacts. Optional extra: lightship[coreml]; macOS only.

UNTESTED HERE: Core ML runs only on Apple systems, and lightship's development machines and CI are
Linux, where ``open_backend`` never reaches this module (its row's ``platform``). On a Mac, ``lightship verify``
and ``lightship.load(..., runtime="coreml")`` run it like any other backend. The package is a classifier:
one image per call, pixels as int32 (Core ML model inputs take no uint8), probabilities as a
label -> probability dictionary, raw scores as ``logits``, the network's input as ``pixels``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def labels_of(spec: Any) -> list[str]:
    """The class labels an ML Program classifier carries (its ``classify`` op), in output order."""
    function = spec.mlProgram.functions["main"]
    block = function.block_specializations[function.opset]
    for op in block.operations:
        if op.type == "classify":
            classes = op.inputs["classes"].arguments[0].value.immediateValue.list.values
            return [v.immediateValue.tensor.strings.values[0] for v in classes]
    return []


class CoreMlBackend:
    def __init__(self, path: Path, threads: int) -> None:
        import coremltools as ct  # the runtime table checks the extra is installed first

        # threads: Core ML schedules its own compute units; CPU_ONLY keeps the comparison with the eager
        # fp32 model about weights and arithmetic, not about which accelerator ran it.
        self.model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)
        self.labels = labels_of(self.model.get_spec())

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        probs, logits, pixels = [], [], []
        for image in images:
            out = self.model.predict({"images": image[None].astype(np.int32)})
            probs.append(np.array([[out["probs"][label] for label in self.labels]], dtype=np.float32))
            logits.append(np.asarray(out["logits"], dtype=np.float32).reshape(1, -1))
            if "pixels" in out:
                pixels.append(np.asarray(out["pixels"], dtype=np.float32))
        outputs = (np.concatenate(probs), np.concatenate(logits))
        return (*outputs, np.concatenate(pixels)) if pixels else outputs


def load(path: Path, threads: int) -> CoreMlBackend:
    return CoreMlBackend(path, threads)
