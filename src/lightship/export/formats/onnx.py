"""ONNX through the dynamo exporter (torch.export + onnxscript) with dynamic batch, height and width.

Saved self-contained (weights inside the .onnx, no external data file) because browsers and Node load
a single file; checked with ``onnx.checker`` and optimised by onnxscript's optimizer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import onnxruntime
import torch
from torch.export import Dim

from lightship.export.formats import Artifact, ExportContext
from lightship.models import InferenceWrapper


def fp32_onnx(ctx: ExportContext) -> Artifact:
    """The fp32 ONNX export of ``ctx.wrapper`` in the scratch folder, made once per export."""
    if "onnx" not in ctx.shared:
        ctx.shared["onnx"] = export_onnx(ctx.wrapper, ctx, ctx.scratch_dir / "model.onnx")
    return ctx.shared["onnx"]


def export_onnx(
    module: torch.nn.Module,
    ctx: ExportContext,
    path: Path,
    output_names: tuple[str, ...] = InferenceWrapper.OUTPUTS,
) -> Artifact:
    """``module`` (the wrapper or a part of it, returning ``output_names``) as checked, optimised,
    self-contained ONNX at ``path``, taking ``images`` uint8 with dynamic batch, height and width."""
    dims = {0: Dim("batch"), 1: Dim("height"), 2: Dim("width")}
    with torch.no_grad():
        program = torch.onnx.export(
            module,
            (ctx.example,),
            dynamo=True,
            opset_version=ctx.opset,
            input_names=["images"],
            output_names=list(output_names),
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


def export(ctx: ExportContext, path: Path) -> Artifact:
    fp32 = fp32_onnx(ctx)
    shutil.copyfile(fp32.main, path)
    return Artifact(path, [path], fp32.versions)
