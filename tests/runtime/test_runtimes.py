"""Conformance of every runtime in the table (a new row is covered without editing this file): each runs the
trained digits bundle and matches the eager model on images of odd sizes, the real digits among them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

import lightship
from lightship.bundle.reference import load_reference
from lightship.images import decode_image
from lightship.models import InferenceWrapper
from lightship.runtime.backends import RUNTIMES


def odd_images() -> list:
    """Digits 0-9 upscaled to sizes the model was not trained on, plus gray, RGBA and extreme shapes."""
    digits = load_digits()
    images: list = []
    for label, size in zip(range(10), [(37, 23), (9, 61), (5, 5), (120, 80), (33, 33)] * 2, strict=True):
        pixels = (digits.images[list(digits.target).index(label)] * (255 / 16)).astype(np.uint8)
        images.append(Image.fromarray(pixels, mode="L").resize(size, Image.Resampling.BILINEAR))
    rng = np.random.default_rng(1)
    images += [
        Image.fromarray(rng.integers(0, 256, (20, 50, 4), dtype=np.uint8), mode="RGBA"),
        rng.integers(0, 256, (1, 1, 3), dtype=np.uint8),
        rng.integers(0, 256, (20, 3000, 3), dtype=np.uint8),
    ]
    return images


def eager(bundle: Path, images: list) -> np.ndarray:
    wrapper = InferenceWrapper(load_reference(bundle / "reference.pt"))
    with torch.no_grad():
        return np.stack([wrapper(torch.from_numpy(decode_image(i))[None])[0][0].numpy() for i in images])


@pytest.mark.parametrize("runtime", ["auto", *RUNTIMES.names()])
def test_every_runtime_matches_eager_on_odd_sized_images(digits_bundle, runtime):
    predictor = lightship.load(digits_bundle, runtime=runtime, threads=1)
    if runtime != "auto":
        assert predictor.runtime == runtime
    images = odd_images()
    expected = eager(digits_bundle, images)
    results = predictor.predict(images, top_k=3)
    for result, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(result.probs, want, atol=1e-5)
        assert result.label == str(int(np.argmax(want))) and len(result.top_k) == 3
    digits_right = sum(r.label == str(i) for i, r in enumerate(results[:10]))
    assert digits_right >= 7, "a trained model reads most upscaled digits: its answers depend on the pixels"
