"""manifest.json: schema 3 records the artifact preference, the image limits and the proof; schema 1 bundles
still load, saying what they lack; unknown fields are ignored; what readers rely on is validated, file paths
stay inside the bundle; bundles verified before the gate table read as unverified."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

import lightship
from lightship.bundle.manifest import SCHEMA1_PREFERENCE, read_manifest, runtime_preference
from lightship.errors import BundleError
from lightship.export.formats import FORMATS
from lightship.images import IMAGE_EXTENSIONS, MAX_PIXELS


@pytest.fixture
def bundle(digits_bundle: Path) -> Path:
    """The trained digits model exported to every format (tests/conftest.py)."""
    return digits_bundle


def _edit(bundle: Path, into: Path, change) -> Path:
    shutil.copytree(bundle, into)
    manifest = json.loads((into / "manifest.json").read_text())
    change(manifest)
    (into / "manifest.json").write_text(json.dumps(manifest))
    return into


def test_schema_3_records_the_preference_and_the_limits(bundle):
    manifest = read_manifest(bundle)
    assert manifest["schema_version"] == 3
    exported = [a["format"] for a in manifest["artifacts"]]
    # the format table's order, less what auto never picks (Core ML)
    assert manifest["runtime_preference"] == [n for n in FORMATS if n in exported and FORMATS[n].auto]
    assert manifest["limits"] == {"max_pixels": MAX_PIXELS, "image_extensions": sorted(IMAGE_EXTENSIONS)}


def test_auto_follows_the_manifests_preference(bundle, tmp_path):
    assert lightship.load(bundle, threads=1).format == "onnx"

    def torchscript_first(manifest):
        manifest["runtime_preference"] = ["torchscript", "onnx", "openvino", "onnx-int8"]

    assert lightship.load(_edit(bundle, tmp_path / "b", torchscript_first), threads=1).format == "torchscript"


def test_a_schema_1_bundle_loads_with_the_built_in_order_and_says_what_it_lacks(bundle, tmp_path, caplog):
    def schema_1(manifest):
        manifest["schema_version"] = 1
        del manifest["runtime_preference"], manifest["limits"]

    old = _edit(bundle, tmp_path / "old", schema_1)
    with caplog.at_level(logging.WARNING, logger="lightship.bundle.manifest"):
        predictor = lightship.load(old, threads=1)
        lightship.load(old, threads=1)
    assert predictor.format == "onnx" and runtime_preference(predictor.manifest) == list(SCHEMA1_PREFERENCE)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, "one warning per bundle, not one per read"
    assert "schema 1" in warnings[0] and "runtime_preference" in warnings[0] and "re-export" in warnings[0]


def test_unknown_fields_are_ignored_and_unknown_versions_refused(bundle, tmp_path):
    def later_additions(manifest):
        manifest["something_new"] = {"x": 1}
        manifest["artifacts"][0]["another"] = True

    assert lightship.load(_edit(bundle, tmp_path / "new", later_additions), threads=1).format == "onnx"

    def from_the_future(manifest):
        manifest["schema_version"] = 99

    with pytest.raises(BundleError, match="schema_version 99"):
        read_manifest(_edit(bundle, tmp_path / "future", from_the_future))


def test_a_manifest_missing_what_readers_need_is_refused_naming_it(bundle, tmp_path):
    def broken(manifest):
        del manifest["labels"]
        manifest["runtime_preference"] = "onnx"

    with pytest.raises(BundleError, match=r"labels must be a list.*runtime_preference must be a list"):
        read_manifest(_edit(bundle, tmp_path / "broken", broken))


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("../outside.onnx", r"'\.\.' part"),
        ("openvino/../../x.bin", r"'\.\.' part"),
        ("C:/model.onnx", "absolute"),
        ("a\\b.onnx", "absolute"),
    ],
)
def test_a_file_path_that_leaves_the_bundle_is_refused(bundle, tmp_path, path, why):
    def escape(manifest):
        manifest["artifacts"][0]["files"][0]["path"] = path
        manifest["artifacts"][0]["file"] = path

    with pytest.raises(BundleError, match=f"{why}.*paths must stay inside the bundle"):
        read_manifest(_edit(bundle, tmp_path / "escape", escape))


def test_reference_and_samples_paths_are_confined_too(bundle, tmp_path):
    def escape(manifest):
        manifest["samples"]["files"][0]["path"] = "../samples.npz"

    with pytest.raises(BundleError, match=r"samples: file path '\.\./samples\.npz'"):
        lightship.load(_edit(bundle, tmp_path / "escape", escape))


def test_an_artifact_whose_file_is_not_among_its_hashed_files_is_refused(bundle, tmp_path):
    def unlisted(manifest):
        manifest["artifacts"][0]["file"] = "model.int8.onnx"  # a real file, but hashed under another artifact

    with pytest.raises(BundleError, match=r"its file 'model\.int8\.onnx' is not among its hashed files"):
        lightship.load(_edit(bundle, tmp_path / "unlisted", unlisted))


def test_a_bundle_verified_before_the_gate_table_loads_as_unverified_with_the_command(bundle, tmp_path):
    def older(manifest):
        manifest["schema_version"] = 2
        manifest["verification"].pop("gates")

    old = _edit(bundle, tmp_path / "old", older)
    with pytest.raises(BundleError, match=rf"unverified.*lightship verify {old} --record true"):
        lightship.load(old)
    predictor = lightship.load(old, allow_unverified=True, threads=1)
    assert "lightship verify" in predictor.unverified
    assert predictor.predict(np.zeros((32, 32, 3), np.uint8)).unverified == predictor.unverified
