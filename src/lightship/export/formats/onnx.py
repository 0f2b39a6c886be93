"""ONNX through the dynamo exporter (torch.export + onnxscript) with dynamic batch, height and width.

Saved self-contained (weights inside the .onnx, no external data file) because browsers and Node load
a single file; checked with ``onnx.checker`` and optimised by onnxscript's optimizer.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime
import torch
from torch.export import Dim

from lightship.export.formats import Artifact, ArtifactFormat, ExportContext

FORMAT = ArtifactFormat("onnx", "onnxruntime", "fp32", None)


def export_onnx(ctx: ExportContext, path: Path) -> Artifact:
    dims = {0: Dim("batch"), 1: Dim("height"), 2: Dim("width")}
    with torch.no_grad():
        program = torch.onnx.export(
            ctx.wrapper,
            (ctx.example,),
            dynamo=True,
            opset_version=ctx.opset,
            input_names=["images"],
            output_names=["probs", "logits"],
            dynamic_shapes={"images": dims},
            optimize=True,
            verbose=False,
        )
    program.save(str(path), external_data=False)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    versions = {
        "opset": opset,
        "onnx": onnx.__version__,
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    return Artifact(path, [path], versions)


def export(ctx: ExportContext) -> Artifact:
    artifact = ctx.onnx_fp32()
    target = ctx.out_dir / "model.onnx"
    artifact.main.replace(target)
    ctx._onnx = Artifact(target, [target], artifact.versions)
    return ctx._onnx
