"""manifest.json: schema 2 records the artifact preference and the image limits; schema 1 bundles still load,
saying what they lack; unknown fields are ignored; what readers rely on is validated."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

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


def test_schema_2_records_the_preference_and_the_limits(bundle):
    manifest = read_manifest(bundle)
    assert manifest["schema_version"] == 2
    assert manifest["runtime_preference"] == list(FORMATS)  # the format table's order
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
