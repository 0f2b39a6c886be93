"""Conformance of every export format in the table (timm-style: a new row is covered without editing this
file): each exports a trained model, passes verification in its own runtime (or, where its runtime cannot run
on this platform, says so), gives the eager answers on real digits at sizes the model was not trained on, and
is refused once tampered."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import lightship
from lightship.bundle.reference import load_reference
from lightship.errors import BundleError
from lightship.export import verify_bundle
from lightship.export.formats import FORMATS
from lightship.export.verify import AGREEMENT_GATES
from lightship.images import decode_image
from lightship.models import InferenceWrapper
from lightship.runtime.backends import RUNTIMES

from ..conftest import odd_images, require_format


def test_every_format_runs_in_a_registered_runtime_and_every_runtime_has_a_format():
    runtimes = [FORMATS[name].runtime for name in FORMATS]
    assert set(runtimes) <= set(RUNTIMES), "a format names a runtime that is not in the runtime table"
    assert set(RUNTIMES) <= set(runtimes), "a runtime no format exports to cannot be tested or used"


def test_every_precision_has_its_gates():
    assert {FORMATS[name].precision for name in FORMATS} <= {*AGREEMENT_GATES, "int8"}


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
        assert check["top1_agreement"] is None and artifact["versions"]["checked"]
        return
    assert check["passed"] is True, check  # digits has labels: int8 is gated too
    assert check["top1_agreement"] >= 0.99 and check["accuracy"] > 90.0


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_gives_the_eager_answers_on_off_size_digits(digits_bundle, name):
    """Real digits at sizes the model was not trained on (within the artifact's largest input): the top-1
    class of the eager model, and probabilities within the fp32/fp16 gate (int8 is judged by its answers)."""
    artifact = require_format(digits_bundle, name)
    reason = RUNTIMES[artifact["runtime"]].unavailable_reason(artifact["runtime"])
    if reason is not None:
        with pytest.raises(BundleError, match="not run on this platform"):
            lightship.load(digits_bundle, format=name)
        return
    predictor = lightship.load(digits_bundle, format=name, threads=1)
    wrapper = InferenceWrapper(load_reference(digits_bundle / "reference.pt"))
    bound = artifact.get("max_input", {"height": 1 << 30, "width": 1 << 30})
    digits = [decode_image(image) for image in odd_images()[:10]]
    fitting = [d for d in digits if d.shape[0] <= bound["height"] and d.shape[1] <= bound["width"]]
    assert len(fitting) >= 8
    for image in fitting:
        with torch.no_grad():
            expected = wrapper(torch.from_numpy(image)[None])[0][0].numpy()
        got = predictor.predict(image).probs
        assert got.argmax() == expected.argmax(), image.shape
        if artifact["precision"] in AGREEMENT_GATES:
            assert np.abs(got - expected).max() <= AGREEMENT_GATES[artifact["precision"]][1], image.shape


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_is_refused_when_its_file_is_tampered(digits_bundle, name, tmp_path):
    artifact = require_format(digits_bundle, name)
    main, record = artifact["file"], artifact["files"][0]["path"]  # the main file, or a package's first file
    bundle = tmp_path / "bundle"
    shutil.copytree(digits_bundle, bundle)
    data = bytearray((bundle / record).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / record).write_bytes(bytes(data))
    with pytest.raises(BundleError, match="does not match its sha256"):
        verify_bundle(bundle, n=8)
    with pytest.raises(BundleError, match=main.replace(".", r"\.")):
        lightship.load(bundle, format=name)
