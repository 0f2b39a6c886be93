"""ExecuTorch ``.pte``: torch.export's program lowered to the XNNPACK delegate, for phones and devices.

ExecuTorch's own antialiased-resize kernel rejects dynamic shapes, so the program is exported from
:func:`lightship.export.edge.edge_wrapper`: the same resize as two matrix products with weights computed
in the graph. ExecuTorch plans memory ahead of time for the largest shapes, so batch, height and width
are dynamic up to a bound: ``MAX_BATCH`` images (the runtime splits larger batches) of at most
``max_input`` x ``max_input`` pixels (stated in the manifest; larger images are refused).
Optional extra: lightship[executorch].
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import torch
from torch.export import Dim

from lightship.export.edge import edge_wrapper
from lightship.export.formats import Artifact, ExportContext

#: Batch bound of the memory plan: planned memory grows linearly with it.
MAX_BATCH = 8


def export(ctx: ExportContext, path: Path) -> Artifact:
    # The format table checks the extra is installed before calling this.
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    bound = ctx.max_input
    dims = {
        0: Dim("batch", min=1, max=MAX_BATCH),
        1: Dim("height", min=1, max=bound),
        2: Dim("width", min=1, max=bound),
    }
    with torch.no_grad():
        program = torch.export.export(
            edge_wrapper(ctx.wrapper), (ctx.example,), dynamic_shapes={"images": dims}
        )
    lowered = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(lowered.buffer)
    planned = sum(lowered.executorch_program.execution_plan[0].non_const_buffer_sizes)
    versions = {
        "executorch": version("executorch"),
        "torch": torch.__version__,
        "delegate": "XNNPACK",
        "max_batch": MAX_BATCH,
        "planned_memory_bytes": int(planned),
    }
    return Artifact(path, [path], versions, max_input=(bound, bound))
