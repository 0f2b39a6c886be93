"""Conformance of every runtime in the table (a new row is covered without editing this file): each runs the
trained digits bundle and matches the eager model on images of odd sizes, the real digits among them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import lightship
from lightship.bundle.reference import load_reference
from lightship.errors import BundleError
from lightship.export.formats import FORMATS
from lightship.images import decode_image
from lightship.models import InferenceWrapper
from lightship.runtime.backends import RUNTIMES, ImageTooLargeError

from ..conftest import odd_images, require_format

#: The first format (table order) of each runtime: the artifact ``load(runtime=...)`` picks.
FORMATS_OF = {FORMATS[name].runtime: name for name in reversed(FORMATS.names())}


def eager(bundle: Path, images: list) -> np.ndarray:
    wrapper = InferenceWrapper(load_reference(bundle / "reference.pt"))
    with torch.no_grad():
        return np.stack([wrapper(torch.from_numpy(decode_image(i))[None])[0][0].numpy() for i in images])


@pytest.mark.parametrize("runtime", ["auto", *RUNTIMES.names()])
def test_every_runtime_matches_eager_on_odd_sized_images(digits_bundle, runtime):
    """Images within the artifact's largest input (if it states one) match eager; larger ones are refused
    naming the artifact, its bound and the image's size. A runtime that cannot run on this platform says so."""
    if runtime != "auto":
        artifact = require_format(digits_bundle, FORMATS_OF[runtime])
        reason = RUNTIMES[runtime].unavailable_reason(runtime)
        if reason is not None:
            # refused as unverified (its record says why), and never opened even when that is allowed
            with pytest.raises(
                BundleError, match=f"'{artifact['format']}' .* unverified .*{re.escape(reason)}"
            ):
                lightship.load(digits_bundle, runtime=runtime)
            with pytest.raises(BundleError, match=f"{artifact['format']} artifact .* {re.escape(reason)}"):
                lightship.load(digits_bundle, runtime=runtime, allow_unverified=True)
            return
    predictor = lightship.load(digits_bundle, runtime=runtime, threads=1)
    if runtime != "auto":
        assert predictor.runtime == runtime
    bound = predictor.artifact.get("max_input", {"height": 1 << 30, "width": 1 << 30})
    images = [decode_image(image) for image in odd_images()]
    fits = [image.shape[0] <= bound["height"] and image.shape[1] <= bound["width"] for image in images]
    for image in (image for image, fit in zip(images, fits, strict=True) if not fit):
        size = rf"{image.shape[0]}x{image.shape[1]}"
        with pytest.raises(ImageTooLargeError, match=rf"{predictor.format} .* this one is {size}"):
            predictor.predict(image)
    images = [image for image, fit in zip(images, fits, strict=True) if fit]
    expected = eager(digits_bundle, images)
    results = predictor.predict(images, top_k=3)
    for result, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(result.probs, want, atol=1e-5)
        assert result.label == str(int(np.argmax(want))) and len(result.top_k) == 3
    digits_right = sum(r.label == str(i) for i, r in enumerate(results[:10]))
    assert digits_right >= 7, "a trained model reads most upscaled digits: its answers depend on the pixels"
