"""Core ML ``.mlpackage`` (ML Program, fp32) through coremltools, for iPhones, iPads and Macs.

Converted from the traced :func:`lightship.export.edge.edge_wrapper` (Core ML has no dynamic antialiased
resize; the matrix-product form converts to ``cumsum``/``matmul``). Input ``images``: 1 x H x W x 3 RGB
pixels, H and W from 1 to ``max_input``; Core ML model inputs take no uint8, so they are int32 holding
0..255. It is a classifier carrying the labels: outputs ``classLabel``, ``probs`` (label -> probability),
``logits`` and ``pixels`` (the network's input, as every artifact has it). Core ML runs only on Apple systems, so on other platforms export checks the saved
package's spec instead (names, types, shapes, labels; :func:`check_spec`) and the manifest says it was
not run. Optional extra: lightship[coreml].

fp32 only: with coremltools 9.0, ``compute_precision=FLOAT16`` together with ``classifier_config`` fails
inside the converter (IndexError in ``get_func_output``: the fp16 pass records two output types, the
classifier makes three outputs), and a package without the labels would not be the bundle's model.
Core ML still runs an fp32 program on the GPU/Neural Engine in fp16 when allowed to
(``MLComputeUnits.all``); the CPU keeps fp32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lightship.errors import BundleError
from lightship.export.edge import edge_wrapper
from lightship.export.formats import Artifact, ExportContext
from lightship.runtime.backends.coreml import labels_of


def _feature(features: Any, name: str) -> Any:
    found = [f for f in features if f.name == name]
    if not found:
        raise BundleError(f"the Core ML package has no feature {name!r} (has: {[f.name for f in features]})")
    return found[0].type


def check_spec(spec: Any, labels: list[str], bound: int) -> str:
    """BundleError unless the spec has the bundle's interface; returns what was checked, in words."""
    images = _feature(spec.description.input, "images").multiArrayType
    ranges = [(r.lowerBound, r.upperBound) for r in images.shapeRange.sizeRanges]
    expected = [(1, 1), (1, bound), (1, bound), (3, 3)]
    if images.dataType != images.INT32 or ranges != expected:
        raise BundleError(f"Core ML input 'images' is {images} not int32 with size ranges {expected}")
    if _feature(spec.description.output, "probs").WhichOneof("Type") != "dictionaryType":
        raise BundleError("Core ML output 'probs' is not a label -> probability dictionary")
    for name in ("logits", "pixels"):
        if _feature(spec.description.output, name).WhichOneof("Type") != "multiArrayType":
            raise BundleError(f"Core ML output {name!r} is not a multi-array")
    if spec.description.predictedFeatureName != "classLabel" or labels_of(spec) != labels:
        raise BundleError(f"Core ML class labels {labels_of(spec)} differ from the model's {labels}")
    return (
        f"spec checked: input images int32 1xHxWx3 (H, W 1..{bound}); outputs classLabel, "
        f"probs (dict), logits, pixels; {len(labels)} labels in order"
    )


def export(ctx: ExportContext, path: Path) -> Artifact:
    # The format table checks the extra is installed before calling this.
    import coremltools as ct
    from coremltools.converters.mil.mil import types

    size = ctx.wrapper.classifier.preprocess.image_size
    bound = ctx.max_input
    shape = (1, ct.RangeDim(1, bound, default=size), ct.RangeDim(1, bound, default=size), 3)
    with torch.no_grad():
        traced = torch.jit.trace(edge_wrapper(ctx.wrapper), (ctx.example[:1],), check_trace=False)
    model = ct.convert(
        traced,
        inputs=[ct.TensorType(name="images", shape=shape, dtype=types.uint8)],
        classifier_config=ct.ClassifierConfig(list(ctx.labels)),
        convert_to="mlprogram",
        compute_precision=ct.precision.FLOAT32,
        minimum_deployment_target=ct.target.iOS17,
    )
    spec = model.get_spec()
    probs = spec.description.predictedProbabilitiesName
    ct.utils.rename_feature(spec, probs, "probs")
    # The wrapper's other outputs, in its order: (probs,) logits, pixels.
    others = [o.name for o in spec.description.output if o.name not in ("classLabel", "probs")]
    for old, new in zip(others, ("logits", "pixels"), strict=True):
        ct.utils.rename_feature(spec, old, new)
    model = ct.models.MLModel(spec, weights_dir=model.weights_dir)
    model.short_description = "lightship image classifier: RGB pixels in, class probabilities out"
    model.input_description["images"] = f"RGB pixels 0..255, 1 x H x W x 3 (NHWC), H and W up to {bound}"
    model.save(str(path))
    checked = check_spec(ct.utils.load_spec(str(path)), list(ctx.labels), bound)
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    versions = {
        "coremltools": ct.__version__,
        "torch": torch.__version__,
        "minimum_deployment_target": "iOS17",
        "compute_precision": "fp32",
        "checked": checked,
    }
    return Artifact(path, files, versions, max_input=(bound, bound))
