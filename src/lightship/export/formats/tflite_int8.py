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

#: The layers that carry learned weights (what dynamic-range quantisation stores as int8); the resize's
#: BATCH_MATMULs multiply by matrices computed at run time and stay float by design.
WEIGHT_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"})


def quantized_layers(path: Path) -> tuple[int, int]:
    """(layers computed in int8, all weight layers) of the ``.tflite`` at ``path``.

    LiteRT has no QDQ nodes to look for (ONNX's test): a dynamic-range layer is one op whose weight input
    (input 1) is an int8 tensor, so the kernel runs hybrid (int8 weights, activations quantised per batch).
    Read from the interpreter's op and tensor tables, i.e. from the written file.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    dtypes = {tensor["index"]: tensor["dtype"] for tensor in interpreter.get_tensor_details()}
    layers = [op for op in interpreter._get_ops_details() if op["op_name"] in WEIGHT_OPS]
    quantized = [op for op in layers if len(op["inputs"]) > 1 and dtypes.get(op["inputs"][1]) == np.int8]
    return len(quantized), len(layers)


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
    )
    return Artifact(path, [path], versions, fp32.max_input)
