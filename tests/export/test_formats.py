"""Conformance of every export format in the table (timm-style: a new row is covered without editing this
file): each exports a trained model, passes verification in its own runtime, and is refused once tampered."""

from __future__ import annotations

import shutil

import pytest

import lightship
from lightship.bundle.manifest import find_artifact, read_manifest
from lightship.errors import BundleError
from lightship.export import verify_bundle
from lightship.export.formats import FORMATS
from lightship.runtime.backends import RUNTIMES


def test_every_format_runs_in_a_registered_runtime_and_every_runtime_has_a_format():
    runtimes = [FORMATS[name].runtime for name in FORMATS]
    assert set(runtimes) <= set(RUNTIMES), "a format names a runtime that is not in the runtime table"
    assert set(RUNTIMES) <= set(runtimes), "a runtime no format exports to cannot be tested or used"


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_exports_and_passes_verification(digits_bundle, name):
    row = FORMATS[name]
    artifact = find_artifact(read_manifest(digits_bundle), name)
    assert (artifact["runtime"], artifact["precision"], artifact["file"]) == (
        row.runtime,
        row.precision,
        row.file,
    )
    assert artifact["file"] in [record["path"] for record in artifact["files"]]
    check = artifact["verification"]
    assert check["passed"] is True, check  # digits has labels: int8 is gated too
    assert check["top1_agreement"] >= 0.99 and check["accuracy"] > 90.0


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_is_refused_when_its_file_is_tampered(digits_bundle, name, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(digits_bundle, bundle)
    main = find_artifact(read_manifest(bundle), name)["file"]
    data = bytearray((bundle / main).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / main).write_bytes(bytes(data))
    with pytest.raises(BundleError, match="does not match its sha256"):
        verify_bundle(bundle, n=8)
    with pytest.raises(BundleError, match=main.replace(".", r"\.")):
        lightship.load(bundle, format=name)
