"""The export-format table: a format's name (``--formats``) -> its exporter, runtime, precision and file.

Each exporter is a function ``export(ctx, path) -> Artifact`` in its own module here: it writes the
artifact whose main file is ``path`` (the row's ``file`` inside the bundle being built) and says which
files it wrote. The table's order is the preference of ``runtime="auto"``: every bundle's manifest
records it (``runtime_preference``), so the Predictor, the web app and the Node runner follow it.
Adding a format is one module here and one row below; the runtime it names must be a row of
:data:`lightship.runtime.backends.RUNTIMES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lightship.errors import BundleError
from lightship.models import InferenceWrapper
from lightship.tables import Row, Table


@dataclass(frozen=True, kw_only=True)
class ExportFormat(Row):
    """A format; its ``target`` is the exporter, ``"module:function"``."""

    runtime: str
    """The runtime (a row of lightship.runtime.backends.RUNTIMES) that runs and verifies the artifact."""
    precision: str
    """The numbers the artifact computes in: "fp32", "fp16" or "int8" (recorded in the manifest)."""
    gate: str
    """Its verification gates: a kind of :data:`lightship.export.gates.GATES` (fp32, fp16, int8)."""
    file: str
    """The main file (what the runtime opens), relative to the bundle."""
    quantized_layers: str | None = None
    """int8 formats: ``"module:function"``, ``function(path) -> (quantized, total)`` counting the layers the
    written file really computes in int8 (the int8.quantized_layers gate reads the file, not the exporter)."""


#: fp32 before int8, ONNX Runtime first (fastest to load and run on a CPU): the order ``auto`` tries.
FORMATS: Table[ExportFormat] = Table(
    "export format",
    {
        "onnx": ExportFormat(
            target="lightship.export.formats.onnx:export",
            runtime="onnxruntime",
            precision="fp32",
            gate="fp32",
            file="model.onnx",
        ),
        "openvino": ExportFormat(
            target="lightship.export.formats.openvino:export",
            runtime="openvino",
            precision="fp32",
            gate="fp32",
            file="openvino/model.xml",
            extra="openvino",
        ),
        "torchscript": ExportFormat(
            target="lightship.export.formats.torchscript:export",
            runtime="torchscript",
            precision="fp32",
            gate="fp32",
            file="model.torchscript.pt",
        ),
        "onnx-int8": ExportFormat(
            target="lightship.export.formats.onnx_int8:export",
            runtime="onnxruntime",
            precision="int8",
            gate="int8",
            file="model.int8.onnx",
            quantized_layers="lightship.export.formats.onnx_int8:quantized_layers",
        ),
    },
    error=BundleError,
)


@dataclass
class Artifact:
    """What an exporter wrote: the main file (what a runtime loads), all files, and tool versions."""

    main: Path
    files: list[Path]
    versions: dict[str, str | int]


@dataclass
class ExportContext:
    """Everything an exporter needs. ``shared`` keeps intermediate results exporters reuse (one fp32 ONNX
    export serves the onnx and onnx-int8 formats); ``scratch_dir`` is for files that are not shipped."""

    wrapper: InferenceWrapper
    example: torch.Tensor
    scratch_dir: Path
    calibration: np.ndarray
    opset: int
    shared: dict[str, Artifact] = field(default_factory=dict)
