"""LiteRT int8 ``.tflite``: the fp32 LiteRT model with dynamic-range quantisation (ai-edge-quantizer).

Dynamic-range (``dynamic_wi8_afp32``): weights of convolutions and fully connected layers are stored
as per-channel int8, and their inputs are quantised to int8 at run time from each batch's own range.
No calibration set is needed, the resize and normalisation (whose matrices are computed at run time)
stay float, and the file is about 4x smaller. Full-integer (``static_wi8_ai8``) was tried and rejected:
it also quantises the uint8->float preprocessing and the softmax and returned probabilities off by
~100 on the same model; making it work would mean hand-picking float islands, which dynamic-range
gets without any. Optional extra: lightship[litert].
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np

from lightship.export.formats import Artifact, ExportContext
from lightship.export.formats.tflite import fp32_tflite


def int8_tensors(path: Path) -> int:
    """How many int8 tensors (quantised weights) the model holds: 0 would mean nothing was quantised."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    return sum(1 for tensor in interpreter.get_tensor_details() if tensor["dtype"] == np.int8)


def export(ctx: ExportContext, path: Path) -> Artifact:
    # The format table checks the extra is installed before calling this.
    from ai_edge_quantizer import quantizer, recipe

    fp32 = fp32_tflite(ctx)
    engine = quantizer.Quantizer(str(fp32.main))
    engine.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    engine.quantize().export_model(str(path), overwrite=True)
    versions = dict(
        fp32.versions,
        ai_edge_quantizer=version("ai-edge-quantizer"),
        quantization="dynamic-range: per-channel int8 weights, int8 activations quantised at run time",
        int8_tensors=int8_tensors(path),
    )
    return Artifact(path, [path], versions, fp32.max_input)
