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
from lightship.errors import BundleError, MissingExtraError, require_extra
from lightship.export import export_bundle, verify_bundle
from lightship.export.formats import FORMATS
from lightship.training import load_trained

from .conftest import make_meta


def test_manifest_describes_the_bundle(digits_run, digits_bundle):
    bundle = digits_bundle
    manifest = read_manifest(bundle)
    meta = load_trained(digits_run).meta
    assert manifest["schema_version"] == 3
    assert manifest["model"]["name"] == "airbench"
    assert manifest["labels"] == [str(i) for i in range(10)]
    spec = manifest["input"]
    assert (spec["name"], spec["dtype"], spec["layout"], spec["channels"]) == (
        "images",
        "uint8",
        "NHWC",
        "RGB",
    )
    assert spec["dynamic"] == ["batch", "height", "width"] and spec["image_size"] == 32
    assert "antialias" in spec["resize"] and "EXIF" in spec["decode"]
    assert manifest["normalization"] == {**manifest["normalization"], "mean": meta.mean, "std": meta.std}
    skipped = [entry["format"] for entry in manifest.get("skipped_formats", [])]
    exported = [name for name in FORMATS if name not in skipped]
    assert [a["format"] for a in manifest["artifacts"]] == exported  # --formats all, in the table's order
    assert manifest["runtime_preference"] == [name for name in exported if FORMATS[name].auto]
    for artifact in manifest["artifacts"]:
        assert artifact["gate"] == FORMATS[artifact["format"]].gate
        check = artifact["verification"]
        if check.get("note"):  # Core ML off Apple systems: written and spec-checked, not run
            assert check["note"].startswith("not run on this platform") and check["figures"] == {}
            assert check["passed"] is None
        else:
            assert check["figures"]["model_size"]["max_abs_prob_diff"] >= 0
        for record in artifact["files"]:
            assert record == file_record(bundle, bundle / record["path"])
    onnx_entry = next(a for a in manifest["artifacts"] if a["format"] == "onnx")
    assert onnx_entry["versions"]["opset"] >= 18
    rows = manifest["samples"]["verification"]
    assert rows["labelled"] is True and "digits" in rows["source"]
    assert set(rows["model_size"]["per_class"]) == set(manifest["labels"])
    assert min(rows["model_size"]["per_class"].values()) >= 10
    assert set(rows["off_size"]["per_class"]) == set(manifest["labels"]) and rows["off_size"]["count"] == 100
    assert "images at their own sizes" in rows["off_size"]["source"]  # digits are 8x8, the model sees 32x32
    assert min(manifest["samples"]["calibration"]["per_class"].values()) >= 10
    assert manifest["verification"]["passed"] is True
    assert manifest["verification"]["gates"]["kinds"]["int8"][0]["gate"] == "int8.quantized_layers"
    assert not [p.name for p in bundle.parent.iterdir() if p.name.startswith(".")], "temp folders left behind"


def test_onnx_is_self_contained_with_named_io(digits_bundle):
    bundle = digits_bundle
    model = onnx.load(str(bundle / "model.onnx"), load_external_data=False)
    assert [i.name for i in model.graph.input] == ["images"]
    assert [o.name for o in model.graph.output] == ["probs", "logits", "pixels"]
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    listed = {r["path"].split("/")[0] for a in read_manifest(bundle)["artifacts"] for r in a["files"]}
    assert sorted(p.name for p in bundle.iterdir()) == sorted(
        [*listed, "manifest.json", "reference.pt", "samples.npz"]
    ), "a file the manifest does not list (scratch files must not ship)"


def test_corrupted_onnx_weights_fail_verify(digits_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(digits_bundle, bundle)
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
    report = verify_bundle(bundle)
    check = next(c for c in report.checks if c.format == "onnx")
    assert check.passed is False and any(f.startswith("fp32.max_abs_prob_diff") for f in check.failures)
    assert not report.passed
    assert next(c for c in report.checks if c.format == "torchscript").passed is True


def test_unknown_format_is_refused_before_any_work(tmp_path):
    """ncnn is not registered (no exporter in the table): refused by name, before any work."""
    meta = make_meta()
    out = tmp_path / "never"
    with pytest.raises(BundleError, match=r"unknown format\(s\) ncnn; choose from onnx, openvino.* or all"):
        export_bundle(
            meta.build().eval(),
            meta,
            out,
            ["torchscript", "ncnn"],
            verify=False,
            calibration_size=4,
            verify_n=4,
        )
    assert list(tmp_path.iterdir()) == []


def test_existing_bundle_is_not_overwritten(digits_bundle):
    bundle = digits_bundle
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
