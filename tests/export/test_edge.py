"""What the edge formats (pt2, executorch, tflite, tflite-int8, coreml, coreml-fp16) and fp16 ONNX promise beyond the
conformance tests (test_formats.py): stated input bounds, platform records, Core ML's spec check, the fp16
graph the browser's WebGPU runs, and ``--formats all``. All on the shared digits bundle (tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
import sys

import onnx
import pytest

import lightship
from lightship.errors import BundleError, MissingExtraError
from lightship.export.bundle import resolve_formats
from lightship.export.edge import CanvasWrapper, edge_wrapper
from lightship.export.formats import FORMATS

from ..conftest import DIGITS_MAX_INPUT, require_format


@pytest.mark.parametrize("name", ["executorch", "tflite", "tflite-int8", "coreml", "coreml-fp16"])
def test_formats_that_plan_memory_state_their_largest_input(digits_bundle, name):
    bound = {"height": DIGITS_MAX_INPUT, "width": DIGITS_MAX_INPUT}
    assert require_format(digits_bundle, name)["max_input"] == bound
    assert "max_input" not in require_format(digits_bundle, "pt2")  # dynamic without a bound


@pytest.mark.parametrize(
    ("key", "value"), [("torch", "2.0.0"), ("arch", "riscv64"), ("os", "Windows"), ("cpu_isa", "sve256")]
)
def test_pt2_refuses_a_package_built_elsewhere(digits_bundle, tmp_path, key, value):
    require_format(digits_bundle, "pt2")
    copy = tmp_path / "copy"
    shutil.copytree(digits_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    next(a for a in manifest["artifacts"] if a["format"] == "pt2")["versions"][key] = value
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=rf"compiled for another platform: {key} '{value}'.*--formats pt2"):
        lightship.load(copy, format="pt2")


@pytest.mark.parametrize("name", ["coreml", "coreml-fp16"])
def test_coreml_is_checked_at_export_and_never_picked_by_auto(digits_bundle, name):
    entry = require_format(digits_bundle, name)
    assert "10 labels in order" in entry["versions"]["checked"]
    assert all(f["path"].startswith(f"{FORMATS[name].file}/") for f in entry["files"])
    manifest = lightship.load(digits_bundle, threads=1).manifest
    assert name not in manifest["runtime_preference"]
    if sys.platform != "darwin":
        assert entry["verification"]["note"].startswith("not run on this platform")


def test_coreml_fp16_computes_in_fp16_and_carries_the_labels(digits_bundle):
    """The fp16 package is a classifier like the fp32 one (coremltools 9.0 cannot make one without
    lightship's extra pass) whose convolutions and products run in fp16 and whose weight file is half the size."""
    import coremltools as ct
    from coremltools.proto import MIL_pb2

    fp16, fp32 = require_format(digits_bundle, "coreml-fp16"), require_format(digits_bundle, "coreml")
    assert fp16["precision"] == fp16["versions"]["compute_precision"] == "fp16"
    spec = ct.utils.load_spec(str(digits_bundle / fp16["file"]))
    function = spec.mlProgram.functions["main"]
    ops = function.block_specializations[function.opset].operations
    compute = [
        op.outputs[0].type.tensorType.dataType for op in ops if op.type in ("conv", "linear", "matmul")
    ]
    assert compute and set(compute) == {MIL_pb2.FLOAT16}, compute
    assert spec.description.predictedFeatureName == "classLabel"
    weights = {
        e["format"]: sum(f["bytes"] for f in e["files"] if "/weights/" in f["path"]) for e in (fp16, fp32)
    }
    assert 0 < weights["coreml-fp16"] <= 0.55 * weights["coreml"], weights


def test_fp16_runs_the_matrix_product_resize_with_uint8_in_and_float32_out(digits_bundle):
    """The artifact the web app runs on WebGPU, whose Resize kernel refuses antialiasing: no Resize node."""
    entry = require_format(digits_bundle, "onnx-fp16")
    model = onnx.load(str(digits_bundle / entry["file"]))
    assert [(i.name, i.type.tensor_type.elem_type) for i in model.graph.input] == [
        ("images", onnx.TensorProto.UINT8)
    ]
    assert {o.type.tensor_type.elem_type for o in model.graph.output} == {onnx.TensorProto.FLOAT}
    ops = {node.op_type for node in model.graph.node}
    assert "Resize" not in ops and {"MatMul", "CumSum"} <= ops
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer)
    assert entry["versions"]["float16_nodes"] > 0
    fp32 = onnx.load(str(digits_bundle / require_format(digits_bundle, "onnx")["file"]))
    assert "Resize" in {node.op_type for node in fp32.graph.node}  # faster on CPUs for large images


def test_the_edge_wrappers_leave_the_model_itself_alone(digits_bundle):
    """edge_wrapper and CanvasWrapper work on copies: the exported model keeps ATen's resize and pools."""
    from lightship.bundle.reference import load_reference
    from lightship.models import InferenceWrapper

    wrapper = InferenceWrapper(load_reference(digits_bundle / "reference.pt"))
    edge, canvas = edge_wrapper(wrapper), CanvasWrapper(wrapper)
    assert wrapper.classifier.preprocess.resize_method == "interpolate"
    assert edge.classifier.preprocess.resize_method == "matmul"
    assert canvas.wrapper.classifier.preprocess.resize_method == "matmul"
    pools = [type(m).__name__ for m in wrapper.modules() if "Pool" in type(m).__name__]
    assert "AdaptiveMaxPool2d" in pools
    assert "AdaptiveMaxPool2d" not in [type(m).__name__ for m in edge.modules()]


def test_all_exports_what_is_installed_and_says_what_is_not(monkeypatch):
    import lightship.errors

    real = lightship.errors.importlib.import_module

    def without_executorch(name, *args):
        if name.startswith("executorch"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(lightship.errors.importlib, "import_module", without_executorch)
    names, skipped = resolve_formats(["all"])
    assert "executorch" not in names and {"onnx", "pt2", "onnx-fp16"} <= set(names)
    assert names == [name for name in FORMATS if name in names]  # the table's order
    assert 'pip install "lightship[executorch]"' in skipped["executorch"]
    with pytest.raises(MissingExtraError, match=r"lightship\[executorch\]"):
        resolve_formats(["onnx", "executorch"])  # asked for by name: an error, before any work
