"""fp16 ONNX for GPUs (CUDA, WebGPU): the network in float16, preprocessing and softmax in float32.

Converted from the ``onnx-webgpu`` graph, whose resize is two matrix products with the weights computed in
the graph (:mod:`lightship.models.resize`), not ``Resize(antialias=1)``: ONNX Runtime Web's WebGPU kernels
refuse antialiasing, and this artifact is the one the web app runs on WebGPU adapters with ``shader-f16``.
(The fp32 ``onnx`` artifact keeps the native Resize: it is faster on CPUs for large images.)

onnxconverter-common converts weights and ops to float16 with ``keep_io_types`` (input uint8, outputs
float32, as every artifact). Only nodes the exporter attributes to the network module (``classifier.net``
in each node's ``pkg.torch.onnx.name_scopes``) are converted: the cast, the resize (its weights are
computed from the image's size with comparisons and casts the converter mistypes when it converts them:
"Cast" type-inference errors), the normalisation and the softmax stay float32, so the network's input is
the fp32 model's to the last bit.

Float16 tops out at 65504. Networks whose BatchNorm sits after a pool (airbench) may carry raw
convolution outputs and running variances far beyond that (measured on a digits-trained airbench: a
conv output of 9.2e4, a running variance of 2.5e8), which become inf in float16 and wreck every answer.
So the fp32 graph is run once on calibration images with every intermediate exposed, and network nodes
whose outputs exceed ``FP16_LIMIT`` there, or whose constant inputs do not fit float16, stay float32:
found from data, not by name, like the int8 exporter's sensitive layers. Verified with its own
tolerance (the fp16 gates of :mod:`lightship.export.verify`). On a CPU, ONNX Runtime has few fp16 kernels
and runs most nodes in fp32 between inserted casts, so a CPU check measures fp16 *weight rounding* more
than fp16 arithmetic; the CUDA provider and WebGPU compute in fp16.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import numpy_helper

from lightship.errors import BundleError
from lightship.export.formats import Artifact, ExportContext
from lightship.export.formats.onnx_webgpu import matmul_onnx

#: The module whose nodes become float16 (``InferenceWrapper.classifier.net``).
NETWORK_SCOPE = "classifier.net"
SCOPES_KEY = "pkg.torch.onnx.name_scopes"
FP16_MAX = 65504.0
#: Largest activation seen on the calibration images that is still converted: a 4x headroom below
#: float16's maximum for images that reach further than the calibration set did.
FP16_LIMIT = FP16_MAX / 4
PROBE_IMAGES = 64


def network_nodes(graph: onnx.GraphProto) -> set[str]:
    """Names of the nodes the exporter attributes to the network module (its name scope)."""
    found = set()
    for node in graph.node:
        scopes = next((p.value for p in node.metadata_props if p.key == SCOPES_KEY), "")
        if f"'{NETWORK_SCOPE}'" in scopes:
            found.add(node.name)
    if not found:
        raise BundleError(
            f"no node of the ONNX graph carries the name scope {NETWORK_SCOPE!r} ({SCOPES_KEY}): this "
            "torch.onnx exporter does not record module scopes, so the network cannot be told from the "
            "preprocessing; export onnx-fp16 with torch >= 2.6"
        )
    return found


def _float32_outputs(model: onnx.ModelProto) -> None:
    """Make every float output float32 again: onnxconverter-common 1.16 casts a kept-float32 node that
    produces a graph output (the softmax) to float16, against ``keep_io_types``; the Cast becomes an
    identity (float32 to float32) that ONNX Runtime removes."""
    outputs = {output.name: output for output in model.graph.output}
    for node in model.graph.node:
        if node.op_type == "Cast" and node.output[0] in outputs:
            for attribute in node.attribute:
                if attribute.name == "to" and attribute.i == onnx.TensorProto.FLOAT16:
                    attribute.i = onnx.TensorProto.FLOAT
                    outputs[node.output[0]].type.tensor_type.elem_type = onnx.TensorProto.FLOAT


def _drop_float16_round_trips(model: onnx.ModelProto) -> int:
    """Bypass every ``Cast(to=float16) -> Cast(to=float32)`` pair: onnxconverter-common 1.16 puts such a
    round trip on float32 values between two kept-float32 nodes (the resize's interpolation weights), which
    rounded those weights to float16 and moved resized pixels by up to 5 levels (a mobilenet fine-tuned on
    photos, images of 200-300 pixels). The float32 consumer then reads the float32 value itself; the
    float16 Cast stays where float16 nodes read it. Returns how many pairs were bypassed."""
    graph = model.graph
    producers = {output: node for node in graph.node for output in node.output}

    def cast_to(node: onnx.NodeProto | None, elem_type: int) -> bool:
        return (
            node is not None
            and node.op_type == "Cast"
            and any(a.name == "to" and a.i == elem_type for a in node.attribute)
        )

    bypassed = 0
    for node in graph.node:
        source = producers.get(node.input[0]) if node.input else None
        if cast_to(node, onnx.TensorProto.FLOAT) and cast_to(source, onnx.TensorProto.FLOAT16):
            node.input[0] = source.input[0]
            bypassed += 1
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    unused = [n for n in graph.node if n.op_type == "Cast" and not set(n.output) & used]
    for node in unused:
        graph.node.remove(node)
    return bypassed


def _activation_peaks(model: onnx.ModelProto, images: np.ndarray) -> dict[str, float]:
    """max |value| of every float tensor of ``model`` over ``images`` (run with all of them as outputs)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    probe = onnx.ModelProto()
    probe.CopyFrom(inferred)
    existing = {output.name for output in probe.graph.output}
    floats = [v for v in inferred.graph.value_info if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT]
    probe.graph.output.extend(v for v in floats if v.name not in existing)
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    peaks = dict.fromkeys(names, 0.0)
    for start in range(0, len(images), 16):
        for name, value in zip(
            names, session.run(names, {"images": images[start : start + 16]}), strict=True
        ):
            if np.issubdtype(value.dtype, np.floating) and value.size:
                peaks[name] = max(peaks[name], float(np.abs(value).max()))
    return peaks


def out_of_range_nodes(model: onnx.ModelProto, images: np.ndarray) -> set[str]:
    """Nodes that would overflow float16: an output beyond FP16_LIMIT on ``images``, or a constant
    input beyond FP16_MAX."""
    peaks = _activation_peaks(model, images)
    big = {
        i.name for i in model.graph.initializer if np.abs(numpy_helper.to_array(i)).max(initial=0) > FP16_MAX
    }
    return {
        node.name
        for node in model.graph.node
        if any(peaks.get(out, 0.0) > FP16_LIMIT for out in node.output) or big & set(node.input)
    }


def export(ctx: ExportContext, path: Path) -> Artifact:
    from onnxconverter_common import float16

    fp32 = matmul_onnx(ctx)
    model = onnx.load(str(fp32.main))
    network = network_nodes(model.graph)
    overflow = out_of_range_nodes(model, ctx.calibration[:PROBE_IMAGES]) & network
    keep = [node.name for node in model.graph.node if node.name not in network or node.name in overflow]
    # The exporter's intermediate type annotations would go stale (float32 where the converter puts
    # float16) and fail the checker; shape inference recomputes them.
    del model.graph.value_info[:]
    half = float16.convert_float_to_float16(
        model, max_finite_val=FP16_MAX, keep_io_types=True, node_block_list=keep
    )
    _float32_outputs(half)
    round_trips = _drop_float16_round_trips(half)
    onnx.checker.check_model(half, full_check=True)
    onnx.save(half, str(path))
    versions = dict(
        fp32.versions,
        onnxconverter_common=version("onnxconverter-common"),
        resize="matrix products (lightship.models.resize)",
        float16_nodes=len(network - overflow),
        float32_nodes=len(keep),
        float32_for_range=",".join(sorted(overflow)) or "none",
        float16_round_trips_removed=round_trips,
    )
    return Artifact(path, [path], versions)
