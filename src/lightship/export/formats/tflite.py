"""LiteRT ``.tflite`` (fp32) through litert-torch, for Android and small devices.

litert-torch (0.10) lowers most ops through a JAX bridge that cannot handle symbolic dimensions: with
``dynamic_shapes`` even a ReLU fails to convert, and its own tests note that no dynamic conversion can be
built. So the graph is static and the image travels on a canvas (:class:`lightship.export.edge.
CanvasWrapper`): inputs ``images`` uint8 ``1 x max_input x max_input x 3`` with the image in its
top-left corner, and ``size`` int32 ``[height, width]``; the resize's weights (computed in the graph
from ``size``) ignore the rest. Outputs ``probs``, ``logits`` and ``pixels``. One image per call; the manifest states
``max_input`` and larger images are refused. The dense resize costs ``3 * max_input**2 * image_size``
multiply-adds whatever the image's size. Optional extra: lightship[litert].
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

import torch

from lightship.export.edge import CanvasWrapper
from lightship.export.formats import Artifact, ExportContext


def convert(module: torch.nn.Module, sample: dict[str, torch.Tensor], path: Path) -> None:
    """``module`` converted by litert-torch for inputs shaped like ``sample`` and written to ``path``."""
    import litert_torch  # the format table checks the extra is installed before calling exporters

    shown = litert_torch.config.show_progress
    litert_torch.config.show_progress = False  # its per-pass progress lines would bury export's report
    try:
        with torch.no_grad():
            litert_torch.convert(module, sample_kwargs=sample).export(str(path))
    finally:
        litert_torch.config.show_progress = shown


def fp32_tflite(ctx: ExportContext) -> Artifact:
    """The fp32 .tflite in the scratch folder, converted once per export (tflite-int8 quantises it)."""
    if "tflite" not in ctx.shared:
        path = ctx.scratch_dir / "model.tflite"
        side = ctx.max_input
        sample = {
            "images": torch.zeros(1, side, side, 3, dtype=torch.uint8),
            "size": torch.tensor([side, side], dtype=torch.int32),
        }
        convert(CanvasWrapper(ctx.wrapper), sample, path)
        versions = {
            "litert_torch": version("litert-torch"),
            "ai_edge_litert": version("ai-edge-litert"),
            "torch": torch.__version__,
            "inputs": "images uint8 1xHxWx3 canvas (image top-left), size int32 [height, width]",
        }
        ctx.shared["tflite"] = Artifact(path, [path], versions, max_input=(side, side))
    return ctx.shared["tflite"]


def export(ctx: ExportContext, path: Path) -> Artifact:
    fp32 = fp32_tflite(ctx)
    shutil.copyfile(fp32.main, path)
    return Artifact(path, [path], fp32.versions, fp32.max_input)
