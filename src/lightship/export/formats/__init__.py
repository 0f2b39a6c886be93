"""Artifact formats: one module per format, each a ``FORMAT`` description and an ``export(ctx)``.

Adding a format is one module here plus its name in ``FORMAT_MODULES``; the bundle writer, verify,
the Predictor and the benchmark pick it up from the manifest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lightship.models import InferenceWrapper

#: Format name -> module; the order is the default preference of ``runtime="auto"``.
FORMAT_MODULES = {
    "onnx": "onnx",
    "openvino": "openvino",
    "torchscript": "torchscript",
    "executorch": "executorch",
    "onnx-int8": "onnx_int8",
}


@dataclass(frozen=True)
class ArtifactFormat:
    name: str
    runtime: str
    precision: str
    extra: str | None
    """pip extra that provides it, None when lightship's core dependencies do."""


@dataclass
class Artifact:
    """What an exporter wrote: the main file (what a runtime loads), all files, and tool versions."""

    main: Path
    files: list[Path]
    versions: dict[str, str | int]


@dataclass
class ExportContext:
    """Everything an exporter needs. ``onnx_fp32()`` lets int8/OpenVINO reuse one ONNX export."""

    wrapper: InferenceWrapper
    example: torch.Tensor
    out_dir: Path
    scratch_dir: Path
    calibration: np.ndarray
    opset: int
    _onnx: Artifact | None = field(default=None, repr=False)

    def onnx_fp32(self) -> Artifact:
        if self._onnx is None:
            from lightship.export.formats.onnx import export_onnx

            self._onnx = export_onnx(self, self.scratch_dir / "model.onnx")
        return self._onnx


def format_names() -> list[str]:
    return list(FORMAT_MODULES)


def exporter(name: str) -> tuple[ArtifactFormat, Callable[[ExportContext], Artifact]]:
    if name not in FORMAT_MODULES:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMAT_MODULES)}")
    module = importlib.import_module(f"{__name__}.{FORMAT_MODULES[name]}")
    return module.FORMAT, module.export
