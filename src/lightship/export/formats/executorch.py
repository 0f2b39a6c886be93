"""ExecuTorch ``.pte``: not producible yet, and this module says exactly why.

``executorch`` 1.5.1 installs beside torch 2.14.1 and lowers the wrapper to XNNPACK (after decomposing
airbench's global adaptive max-pool, which has no ExecuTorch kernel), but the resulting program fails at
run time: the portable ``aten::_upsample_bilinear2d_aa.out`` kernel checks its output against the
planned upper-bound shape instead of resizing it ("Check failed (out.size(0) == in.size(0))",
error 0x12), so the antialiased resize that every artifact must contain cannot run with dynamic
batch/height/width. A fixed-shape program would need the caller to resize, breaking the bundle contract
that preprocessing lives inside the model. Revisit when ExecuTorch's resize kernel supports dynamic shapes.
"""

from __future__ import annotations

from lightship.errors import BundleError
from lightship.export.formats import Artifact, ArtifactFormat, ExportContext

# No pip extra: installing executorch would not help until its resize kernel takes dynamic shapes.
FORMAT = ArtifactFormat("executorch", "executorch", "fp32", None)


def export(ctx: ExportContext) -> Artifact:
    raise BundleError(
        "the executorch format is not available: ExecuTorch's antialiased bilinear resize kernel "
        "(aten::_upsample_bilinear2d_aa) cannot run with dynamic image shapes, and every lightship artifact "
        "resizes inside the model. Use onnx (ONNX Runtime, also on mobile/web) or torchscript instead."
    )
