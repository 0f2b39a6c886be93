"""OpenVINO IR (model.xml + model.bin) converted from the wrapper by OpenVINO's PyTorch frontend.

Converted from PyTorch rather than from the ONNX file because OpenVINO's ONNX frontend does not keep
``Resize(antialias=1)`` exact (probabilities off by ~3e-3 on downscaled images), while the PyTorch
frontend maps the antialiased resize exactly. Tensor names are set to the bundle contract
(images -> probs, logits, pixels). Optional extra: lightship[openvino].
"""

from __future__ import annotations

from pathlib import Path

from lightship.errors import require_extra
from lightship.export.formats import Artifact, ExportContext
from lightship.models import InferenceWrapper


def export(ctx: ExportContext, path: Path) -> Artifact:
    ov = require_extra("openvino", "openvino")
    model = ov.convert_model(ctx.wrapper, example_input=ctx.example, input=[ov.PartialShape([-1, -1, -1, 3])])
    model.inputs[0].get_tensor().set_names({"images"})
    for output, name in zip(model.outputs, InferenceWrapper.OUTPUTS, strict=True):
        output.get_tensor().set_names({name})
    path.parent.mkdir(parents=True, exist_ok=True)
    # compress_to_fp16=False: the IR keeps fp32 weights, the precision verify compares against.
    ov.save_model(model, str(path), compress_to_fp16=False)
    return Artifact(path, [path, path.with_suffix(".bin")], {"openvino": ov.__version__})
