from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from lightship.bundle.integrity import file_record, sha256_file
from lightship.bundle.manifest import read_manifest
from lightship.bundle.samples import ImageSet
from lightship.errors import BundleError, MissingExtraError, require_extra
from lightship.export import export_bundle, verify_bundle
from lightship.export.verify import check_artifact

from .conftest import FORMATS, make_meta


def test_airbench_exports_every_format_and_passes_verify(airbench_export):
    _, report = airbench_export
    assert report.passed, report.to_dict()
    assert [c.format for c in report.checks] == ["onnx", "openvino", "torchscript", "onnx-int8"]
    for check in report.checks:
        if check.precision == "fp32":
            assert check.passed is True
            assert check.top1_agreement >= 0.999
            assert check.max_abs_prob_diff <= 1e-4
        else:
            assert check.passed is None  # unlabelled synthetic data: int8 is reported, not gated
            assert 0.0 <= check.top1_agreement <= 1.0


def test_manifest_describes_the_bundle(airbench_export):
    bundle, _ = airbench_export
    manifest = read_manifest(bundle)
    assert manifest["schema_version"] == 2
    assert manifest["model"]["name"] == "airbench"
    assert manifest["labels"] == [f"class{i}" for i in range(10)]
    spec = manifest["input"]
    assert (spec["name"], spec["dtype"], spec["layout"], spec["channels"]) == (
        "images",
        "uint8",
        "NHWC",
        "RGB",
    )
    assert spec["dynamic"] == ["batch", "height", "width"] and spec["image_size"] == 32
    assert "antialias" in spec["resize"] and "EXIF" in spec["decode"]
    assert manifest["normalization"] == {**manifest["normalization"], "mean": [0.5, 0.4, 0.3]}
    assert {a["format"] for a in manifest["artifacts"]} == set(FORMATS)
    for artifact in manifest["artifacts"]:
        assert artifact["verification"]["max_abs_prob_diff"] >= 0
        for record in artifact["files"]:
            assert record == file_record(bundle, bundle / record["path"])
    onnx_entry = next(a for a in manifest["artifacts"] if a["format"] == "onnx")
    assert onnx_entry["versions"]["opset"] >= 18
    assert manifest["verification"]["passed"] is True
    assert not list(bundle.parent.glob(".airbench*")), "temp folders must not be left behind"


def test_onnx_is_self_contained_with_named_io(airbench_export):
    bundle, _ = airbench_export
    model = onnx.load(str(bundle / "model.onnx"), load_external_data=False)
    assert [i.name for i in model.graph.input] == ["images"]
    assert [o.name for o in model.graph.output] == ["probs", "logits"]
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert sorted(p.name for p in bundle.iterdir()) == sorted(
        [
            "manifest.json",
            "reference.pt",
            "samples.npz",
            "model.onnx",
            "model.int8.onnx",
            "model.torchscript.pt",
            "openvino",
        ]
    )


def test_corrupted_onnx_weights_fail_verify(airbench_export, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(airbench_export[0], bundle)
    path = bundle / "model.onnx"
    model = onnx.load(str(path))
    largest = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    weights = numpy_helper.to_array(largest)
    largest.CopyFrom(numpy_helper.from_array(weights * 1.5 + 0.05, largest.name))
    onnx.save(model, str(path))
    # Re-hash as a buggy exporter would: the integrity check passes, the numerical check must not.
    manifest = json.loads((bundle / "manifest.json").read_text())
    entry = next(a for a in manifest["artifacts"] if a["format"] == "onnx")
    entry["files"] = [file_record(bundle, path)]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    report = verify_bundle(bundle, n=64)
    check = next(c for c in report.checks if c.format == "onnx")
    assert check.passed is False and check.failures
    assert not report.passed
    assert next(c for c in report.checks if c.format == "torchscript").passed is True


def test_verify_refuses_a_tampered_file(airbench_export, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(airbench_export[0], bundle)
    with (bundle / "model.torchscript.pt").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=r"model\.torchscript\.pt"):
        verify_bundle(bundle, n=8)


class _Shifted:
    """A fake backend whose answers are wrong for a fixed share of images."""

    def __init__(self, reference: np.ndarray, wrong: int) -> None:
        self.probs = reference.copy()
        self.probs[:wrong] = np.roll(self.probs[:wrong], 1, axis=1)

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.probs[images[:, 0, 0, 0]]  # each test image carries its index in its first pixel
        return out, out


@pytest.mark.parametrize(("wrong", "passes"), [(1, True), (3, False)])
def test_int8_gate_is_one_accuracy_point(wrong, passes):
    reference = np.eye(10, dtype=np.float32)[np.arange(200) % 10]
    pixels = np.zeros((200, 4, 4, 3), np.uint8)
    pixels[:, 0, 0, 0] = np.arange(200)
    images = ImageSet(pixels, np.arange(200) % 10, "test")
    artifact = {"format": "onnx-int8", "runtime": "onnxruntime", "precision": "int8"}
    check = check_artifact(artifact, _Shifted(reference, wrong), images, reference, odd=[])
    assert check.accuracy == pytest.approx(100.0 - wrong / 2)
    assert check.passed is passes


def test_unknown_format_is_refused_before_any_work(tmp_path):
    """executorch is not registered (its resize kernel rejects dynamic shapes, docs/bundle.md): refused by name."""
    meta = make_meta()
    out = tmp_path / "never"
    with pytest.raises(BundleError, match=r"unknown format\(s\) executorch; choose from onnx, openvino"):
        export_bundle(
            meta.build().eval(),
            meta,
            out,
            ["torchscript", "executorch"],
            verify=False,
            calibration_size=4,
            verify_n=4,
        )
    assert list(tmp_path.iterdir()) == []


def test_existing_bundle_is_not_overwritten(airbench_export):
    bundle, _ = airbench_export
    before = sha256_file(bundle / "manifest.json")
    meta = make_meta()
    with pytest.raises(BundleError, match="already exists"):
        export_bundle(meta.build(), meta, bundle, ["onnx"])
    assert sha256_file(bundle / "manifest.json") == before


def test_missing_extra_names_the_pip_command():
    with pytest.raises(MissingExtraError, match=r'pip install "lightship\[openvino\]"'):
        require_extra("lightship_no_such_module", "openvino")


@pytest.mark.parametrize("model", ["resnet18_cifar", "mobilenet_v3_small"])
def test_other_architectures_export_and_verify(model, tmp_path):
    meta = make_meta(model, image_size=32)
    bundle, report = export_bundle(
        meta.build().eval(), meta, tmp_path / model, ["torchscript", "onnx"], calibration_size=8, verify_n=32
    )
    assert report.passed, report.to_dict()
    assert read_manifest(Path(bundle))["model"]["name"] == model
