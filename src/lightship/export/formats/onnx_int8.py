"""int8 ONNX: onnxruntime static QDQ quantisation, per-channel int8 weights, uint8 activations,
calibrated on training images. Only the network's heavy ops are quantised; the uint8->float cast,
resize and normalisation stay float so preprocessing is exactly the eager one.

Some layers cannot take int8 inputs: airbench's whitening conv spreads activations over a range so
wide that uint8 steps erase the small channels, and the next layer's BatchNorm amplifies that noise
into a constant prediction. So the quantised model is checked against fp32 on the calibration images;
when top-1 agreement falls short, each layer is quantised alone and the layers that alone cost
agreement stay in float (the usual "sensitive layers in fp32" practice, found from data, not by name).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from lightship.export.formats import Artifact, ExportContext
from lightship.export.formats.onnx import fp32_onnx

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")
#: Top-1 agreement with fp32 on the calibration images below which sensitive layers are searched for,
#: and that one layer quantised alone must keep to stay int8.
MIN_AGREEMENT = 0.99
MIN_LAYER_AGREEMENT = 0.995


class _Batches(CalibrationDataReader):
    def __init__(self, images: np.ndarray, batch_size: int = 32) -> None:
        self.batches = iter(
            [{"images": images[i : i + batch_size]} for i in range(0, len(images), batch_size)]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.batches, None)


def _quantize(prepared: Path, out: Path, calibration: np.ndarray, exclude: list[str]) -> Path:
    quantize_static(
        str(prepared),
        str(out),
        _Batches(calibration),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=list(QUANTIZED_OPS),
        nodes_to_exclude=exclude,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    return out


def _top1(path: Path, images: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate(
        [
            session.run(["probs"], {"images": images[i : i + 64]})[0].argmax(1)
            for i in range(0, len(images), 64)
        ]
    )


def quantized_layers(path: Path) -> tuple[int, int]:
    """(layers computed in int8, all Conv/MatMul/Gemm layers) of the file at ``path``: a layer is quantised
    when its weight input comes from a DequantizeLinear node (QDQ format)."""
    graph = onnx.load(str(path)).graph
    producers = {output: node.op_type for node in graph.node for output in node.output}
    layers = [node for node in graph.node if node.op_type in QUANTIZED_OPS]
    quantized = [n for n in layers if len(n.input) > 1 and producers.get(n.input[1]) == "DequantizeLinear"]
    return len(quantized), len(layers)


def export(ctx: ExportContext, path: Path) -> Artifact:
    fp32 = fp32_onnx(ctx)
    prepared = ctx.scratch_dir / "model.prep.onnx"
    quant_pre_process(str(fp32.main), str(prepared), skip_symbolic_shape=True)
    calibration = ctx.calibration
    reference = _top1(fp32.main, calibration)

    def agreement(exclude: list[str], out: Path) -> float:
        return float((_top1(_quantize(prepared, out, calibration, exclude), calibration) == reference).mean())

    nodes = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type in QUANTIZED_OPS]
    exclude: list[str] = []
    if agreement(exclude, path) < MIN_AGREEMENT:
        probe = ctx.scratch_dir / "probe.int8.onnx"
        exclude = [n for n in nodes if agreement([m for m in nodes if m != n], probe) < MIN_LAYER_AGREEMENT]
        _quantize(prepared, path, calibration, exclude)
    versions = dict(
        fp32.versions,
        onnxruntime=onnxruntime.__version__,
        calibration_images=len(calibration),
        float_layers=",".join(exclude) or "none",
    )
    return Artifact(path, [path], versions)
