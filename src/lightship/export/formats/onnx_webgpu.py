"""fp32 ONNX with the resize as matrix products, for ONNX Runtime backends without an antialiased Resize.

The ``onnx`` artifact resizes with ``Resize(antialias=1)``, which ONNX Runtime Web's WebGPU kernels refuse
(and mobile execution providers lack). This one is exported from :func:`lightship.export.edge.edge_wrapper`:
the same function, the weights computed in the graph from the image's size (:mod:`lightship.models.resize`),
so it runs wherever MatMul and CumSum do. The web app runs it on WebGPU adapters without ``shader-f16`` (the
fp16 artifact needs that feature; headless Chromium's software adapter, SwiftShader, lacks it). It is not
the default fp32 artifact because the dense products cost more than ATen's resize for large images on CPUs
(docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

from lightship.export.edge import edge_wrapper
from lightship.export.formats import Artifact, ExportContext
from lightship.export.formats.onnx import export_onnx


def matmul_onnx(ctx: ExportContext) -> Artifact:
    """The fp32 ONNX export of the edge wrapper in the scratch folder, made once per export."""
    if "onnx-matmul" not in ctx.shared:
        path = ctx.scratch_dir / "model.matmul.onnx"
        ctx.shared["onnx-matmul"] = export_onnx(edge_wrapper(ctx.wrapper), ctx, path)
    return ctx.shared["onnx-matmul"]


def export(ctx: ExportContext, path: Path) -> Artifact:
    fp32 = matmul_onnx(ctx)
    path.write_bytes(fp32.main.read_bytes())
    return Artifact(path, [path], dict(fp32.versions, resize="matrix products (lightship.models.resize)"))
