"""Conformance of every export format in the table (timm-style: a new row is covered without editing this
file): each exports a trained model, passes verification in its own runtime (or, where its runtime cannot run
on this platform, says so), computes the training data path's network input on off-size images (within its
largest input), and is refused once tampered."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

import lightship
from lightship.bundle.reference import load_reference
from lightship.data.decode import resize_images
from lightship.errors import BundleError
from lightship.export import verify_bundle
from lightship.export.formats import FORMATS
from lightship.export.gates import GATES
from lightship.runtime.backends import RUNTIMES

from ..conftest import require_format


def test_every_format_runs_in_a_registered_runtime_and_every_runtime_has_a_format():
    runtimes = [FORMATS[name].runtime for name in FORMATS]
    assert set(runtimes) <= set(RUNTIMES), "a format names a runtime that is not in the runtime table"
    assert set(RUNTIMES) <= set(runtimes), "a runtime no format exports to cannot be tested or used"


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_exports_and_passes_verification(digits_bundle, name):
    row = FORMATS[name]
    artifact = require_format(digits_bundle, name)
    assert (artifact["runtime"], artifact["precision"], artifact["file"]) == (
        row.runtime,
        row.precision,
        row.file,
    )
    assert artifact["file"] in [record["path"] for record in artifact["files"]] or all(
        record["path"].startswith(artifact["file"] + "/") for record in artifact["files"]
    )  # a file, or a package folder (Core ML) whose files are all listed
    check = artifact["verification"]
    reason = RUNTIMES[row.runtime].unavailable_reason(row.runtime)
    if reason is not None:  # Core ML off Apple systems: checked at export, recorded as not run
        assert check["passed"] is None and check["note"].startswith(reason), check
        assert check["figures"] == {} and artifact["versions"]["checked"]
        return
    assert check["passed"] is True, check  # digits has labels: int8 is gated too
    figures = check["figures"]
    assert figures["model_size"]["top1_agreement"] >= 0.98 and figures["model_size"]["accuracy"] > 90.0
    off = figures["off_size"]
    assert off["images"] + off.get("over_max_input", 0) == 100 and off["images"] >= 90
    assert off["top1_agreement"] >= 0.98
    assert {g["gate"] for g in check["gates"]} == {g.name for g in GATES[row.gate]}


def off_size_digits() -> list[tuple[np.ndarray, int]]:
    """Real digits at sizes the model never saw: smaller, larger, odd aspect ratios, one pixel wide/high."""
    digits = load_digits()
    shapes = [
        (5, 5),
        (20, 20),
        (31, 33),
        (97, 83),
        (7, 120),
        (120, 7),
        (1, 40),
        (40, 1),
        (64, 64),
        (300, 200),
    ]
    out = []
    for i, shape in enumerate(shapes * 2):
        gray = (digits.images[i] * (255 / 16)).astype(np.uint8)
        pil = Image.fromarray(gray, mode="L").convert("RGB").resize(shape[::-1], Image.Resampling.BICUBIC)
        out.append((np.asarray(pil), int(digits.target[i])))
    return out


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_computes_the_training_paths_network_input_on_off_size_images(digits_bundle, name):
    """The one preprocessing: the pipeline's resize + rounding then the model, against the artifact's own
    resize. Torch kernels: bit for bit; other runtimes: within one level on <= 0.1% of values, same top-1."""
    artifact = require_format(digits_bundle, name)
    reason = RUNTIMES[artifact["runtime"]].unavailable_reason(artifact["runtime"])
    if reason is not None:  # Core ML off Apple systems: refused by name, never run
        with pytest.raises(BundleError, match="not run on this platform"):
            lightship.load(digits_bundle, format=name, allow_unverified=True)
        return
    classifier = load_reference(digits_bundle / "reference.pt")
    backend = lightship.load(digits_bundle, format=name, threads=1).backend
    exact = RUNTIMES[artifact["runtime"]].torch_kernels
    bound = artifact.get("max_input", {"height": 1 << 30, "width": 1 << 30})
    digits = [
        (d, c) for d, c in off_size_digits() if d.shape[0] <= bound["height"] and d.shape[1] <= bound["width"]
    ]
    assert len(digits) >= 18, "the digits fixture's max_input (128) leaves out only the 300 x 200 digits"
    differing, total, agree = 0, 0, 0
    for image, _ in digits:
        sized = torch.from_numpy(resize_images(image[None], 32))
        with torch.inference_mode():
            want_pixels = classifier.preprocess.to_float(sized)
            want_probs = classifier.probabilities(classifier(sized)).numpy()
        probs, _, pixels = backend.run(image[None])
        delta = np.abs(pixels - want_pixels.numpy())
        assert delta.max() <= (0.0 if exact else 1.0), (name, image.shape)
        differing, total = differing + int((delta > 0).sum()), total + delta.size
        agree += int(probs.argmax() == want_probs.argmax())
        if exact:
            np.testing.assert_array_equal(probs, want_probs)
    assert differing <= 0.001 * total
    wanted = len(digits) if artifact["gate"] != "int8" else len(digits) - 2
    assert agree >= wanted, f"{name}: top-1 agrees on {agree}/{len(digits)}"


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_is_refused_when_any_of_its_files_is_tampered(digits_bundle, name, tmp_path):
    """Every file of an artifact, not only its main one: web-litert's preprocessing graph, a package's parts."""
    artifact = require_format(digits_bundle, name)
    runs_here = RUNTIMES[FORMATS[name].runtime].unavailable_reason(FORMATS[name].runtime) is None
    for index, record in enumerate(artifact["files"]):
        bundle = tmp_path / f"bundle{index}"
        shutil.copytree(digits_bundle, bundle)
        data = bytearray((bundle / record["path"]).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (bundle / record["path"]).write_bytes(bytes(data))
        named = re.escape(record["path"]) + ".* does not match its sha256"
        with pytest.raises(BundleError, match=named):
            verify_bundle(bundle, n=8)
        # Core ML off Apple systems is refused as unverified before its files are read
        with pytest.raises(BundleError, match=named if runs_here else re.escape(artifact["file"])):
            lightship.load(bundle, format=name)
