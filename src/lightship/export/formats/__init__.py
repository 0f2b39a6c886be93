"""The export-format table: a format's name (``--formats``) -> its exporter, runtime, precision and file.

Each exporter is a function ``export(ctx, path) -> Artifact`` in its own module here: it writes the
artifact whose main file is ``path`` (the row's ``file`` inside the bundle being built) and says which
files it wrote. The table's order is the preference of ``runtime="auto"``: every bundle's manifest
records it (``runtime_preference``), so the Predictor, the web app and the Node runner follow it; a row
with ``auto=False`` is left out of it (used only when asked for by name).
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
    auto: bool = True
    """Whether ``runtime="auto"`` may pick it (Core ML: no, it runs on Apple systems only)."""


#: fp32 before fp16 and int8, ONNX Runtime first (fastest to load and run on a CPU): the order ``auto`` tries.
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
        "pt2": ExportFormat(
            target="lightship.export.formats.pt2:export",
            runtime="aoti",
            precision="fp32",
            gate="fp32",
            file="model.pt2",
        ),
        "executorch": ExportFormat(
            target="lightship.export.formats.executorch:export",
            runtime="executorch",
            precision="fp32",
            gate="fp32",
            file="model.pte",
            extra="executorch",
        ),
        "tflite": ExportFormat(
            target="lightship.export.formats.tflite:export",
            runtime="litert",
            precision="fp32",
            gate="fp32",
            file="model.tflite",
            extra="litert",
            extra_module="litert_torch",
        ),
        "coreml": ExportFormat(
            target="lightship.export.formats.coreml:export",
            runtime="coreml",
            precision="fp32",
            gate="fp32",
            file="model.mlpackage",
            extra="coreml",
            extra_module="coremltools",
            auto=False,
        ),
        "coreml-fp16": ExportFormat(
            target="lightship.export.formats.coreml:export_fp16",
            runtime="coreml",
            precision="fp16",
            gate="fp16",
            file="model.fp16.mlpackage",
            extra="coreml",
            extra_module="coremltools",
            auto=False,
        ),
        "onnx-webgpu": ExportFormat(
            target="lightship.export.formats.onnx_webgpu:export",
            runtime="onnxruntime",
            precision="fp32",
            gate="fp32",
            file="model.webgpu.onnx",
        ),
        "onnx-fp16": ExportFormat(
            target="lightship.export.formats.onnx_fp16:export",
            runtime="onnxruntime",
            precision="fp16",
            gate="fp16",
            file="model.fp16.onnx",
        ),
        "onnx-int8": ExportFormat(
            target="lightship.export.formats.onnx_int8:export",
            runtime="onnxruntime",
            precision="int8",
            gate="int8",
            file="model.int8.onnx",
            quantized_layers="lightship.export.formats.onnx_int8:quantized_layers",
        ),
        "tflite-int8": ExportFormat(
            target="lightship.export.formats.tflite_int8:export",
            runtime="litert",
            precision="int8",
            gate="int8",
            file="model.int8.tflite",
            quantized_layers="lightship.export.formats.tflite_int8:quantized_layers",
            extra="litert",
            extra_module="ai_edge_quantizer",
        ),
        "web-litert": ExportFormat(
            target="lightship.export.formats.web_litert:export",
            runtime="litert-web",
            precision="fp32",
            gate="fp32",
            file="model.web.tflite",
            extra="litert",
            extra_module="litert_torch",
        ),
    },
    error=BundleError,
)


#: Largest image height and width of the formats that plan memory for one (``--max_input``).
DEFAULT_MAX_INPUT = 1024


@dataclass
class Artifact:
    """What an exporter wrote: the main file (what a runtime loads), all files, and tool versions.

    ``max_input`` (height, width) is the largest image the artifact takes, for formats that plan their
    memory for one (None: any size); the manifest states it and every runtime refuses larger images.
    """

    main: Path
    files: list[Path]
    versions: dict[str, str | int]
    max_input: tuple[int, int] | None = None


@dataclass
class ExportContext:
    """Everything an exporter needs. ``shared`` keeps intermediate results exporters reuse (one fp32 ONNX
    export serves the onnx and onnx-int8 formats); ``scratch_dir`` is for files that are not shipped."""

    wrapper: InferenceWrapper
    example: torch.Tensor
    scratch_dir: Path
    calibration: np.ndarray
    opset: int
    labels: tuple[str, ...] = ()
    """Class names in output order (formats that carry them: Core ML)."""
    max_input: int = DEFAULT_MAX_INPUT
    """Largest height and width of the formats that plan memory for one (LiteRT, ExecuTorch, Core ML)."""
    shared: dict[str, Artifact] = field(default_factory=dict)
