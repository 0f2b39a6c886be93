"""Core ML ``.mlpackage`` (ML Program, fp32 or fp16) through coremltools, for iPhones, iPads and Macs.

Converted from the traced :func:`lightship.export.edge.edge_wrapper` (Core ML has no dynamic antialiased
resize; the matrix-product form converts to ``cumsum``/``matmul``). Input ``images``: 1 x H x W x 3 RGB
pixels, H and W from 1 to ``max_input``; Core ML model inputs take no uint8, so they are int32 holding
0..255. It is a classifier carrying the labels: outputs ``classLabel``, ``probs`` (label -> probability),
``logits`` and ``pixels`` (the network's input, as every artifact has it). Core ML runs only on Apple systems, so on other platforms export checks the saved
package's spec instead (names, types, shapes, labels; :func:`check_spec`) and the manifest says it was
not run. Optional extra: lightship[coreml].

fp16 (``coreml-fp16``): coremltools 9.0's fp16 pass records the function's output types before the
classifier adds its outputs, and the backend then indexes past that list (IndexError in
``get_func_output``) whenever ``compute_precision=FLOAT16`` meets ``classifier_config``. One pass added to
coremltools' own pipeline right after it (:func:`_fp16_pipeline`) forgets the recorded types, so the
package's description is read from the program itself: fp16 weights and arithmetic, ``logits`` and
``pixels`` as fp16 multi-arrays (0..255 pixel levels are exact in fp16), the labels as in fp32.
"""

from __future__ import annotations

import functools
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


@functools.cache
def _fp16_pipeline() -> Any:
    """coremltools' default pipeline plus one pass, after ``common::update_output_dtypes``, that clears the
    output types the fp16 pass recorded (see the module's docstring). Registered once per process."""
    import coremltools as ct
    from coremltools.converters.mil.mil.passes.graph_pass import AbstractGraphPass
    from coremltools.converters.mil.mil.passes.pass_registry import register_pass

    @register_pass(namespace="lightship")
    class forget_output_types(AbstractGraphPass):  # the class name is the pass name, as in coremltools
        def apply(self, prog: Any) -> None:
            for function in prog.functions.values():
                function.output_types = None

    pipeline = ct.PassPipeline.DEFAULT
    pipeline.insert_pass(
        pipeline.passes.index("common::update_output_dtypes") + 1, "lightship::forget_output_types"
    )
    return pipeline


def export(ctx: ExportContext, path: Path) -> Artifact:
    return _convert(ctx, path, "fp32")


def export_fp16(ctx: ExportContext, path: Path) -> Artifact:
    return _convert(ctx, path, "fp16")


def _convert(ctx: ExportContext, path: Path, precision: str) -> Artifact:
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
        minimum_deployment_target=ct.target.iOS17,
        compute_precision=ct.precision.FLOAT16 if precision == "fp16" else ct.precision.FLOAT32,
        pass_pipeline=_fp16_pipeline() if precision == "fp16" else ct.PassPipeline.DEFAULT,
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
        "compute_precision": precision,
        "checked": checked,
    }
    return Artifact(path, files, versions, max_input=(bound, bound))
