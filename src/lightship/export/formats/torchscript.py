"""TorchScript via ``torch.jit.trace``: the wrapper has no data-dependent branches, so tracing is exact
for every batch size and image size (checked by verify on other shapes than the trace example)."""

from __future__ import annotations

from pathlib import Path

import torch

from lightship.export.formats import Artifact, ExportContext


def export(ctx: ExportContext, path: Path) -> Artifact:
    with torch.no_grad():
        traced = torch.jit.trace(ctx.wrapper, (ctx.example,), check_trace=False)
    traced.save(str(path))
    return Artifact(path, [path], {"torch": torch.__version__})
