"""The one preprocessing: the training data path (decode, resize and round to uint8 once, then the model at
its size) and the graph every artifact is exported from (resize and round inside) compute the same network
input and the same answers, bit for bit, on images of any size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from lightship.bundle.reference import load_reference
from lightship.data.decode import resize_images
from lightship.models import InferenceWrapper
from lightship.models.classifier import LEVEL_NUDGE, to_levels
from lightship.training import load_trained

#: Smaller, larger, odd aspect ratios, one pixel wide and high.
SHAPES = [(5, 5), (20, 20), (31, 33), (97, 83), (7, 120), (120, 7), (1, 40), (40, 1), (300, 200)]


def test_levels_round_exact_halves_upward_and_keep_whole_levels():
    x = torch.tensor([0.0, 12.5, 13.5, 12.49, 12.4961, 254.6, 255.4, -0.7, 300.0])
    assert to_levels(x).tolist() == [0.0, 13.0, 14.0, 12.0, 13.0, 255.0, 255.0, 0.0, 255.0]
    whole = torch.arange(256, dtype=torch.float32)
    assert torch.equal(to_levels(whole), whole), "images at the model's size pass unchanged"
    assert LEVEL_NUDGE == 2.0**-8  # exact in float32


@pytest.mark.parametrize("shape", SHAPES)
def test_training_path_and_graph_agree_bit_for_bit_on_real_off_size_images(digits_run, shape):
    trained = load_trained(digits_run)
    wrapper = InferenceWrapper(trained.classifier)
    digits = load_digits()
    images = np.stack(
        [
            np.asarray(
                Image.fromarray((digits.images[i] * (255 / 16)).astype(np.uint8), mode="L")
                .convert("RGB")
                .resize(shape[::-1], Image.Resampling.BICUBIC)
            )
            for i in range(10)
        ]
    )
    sized = torch.from_numpy(resize_images(images, 32))  # the data pipeline
    with torch.inference_mode():
        train_logits = trained.classifier(sized)  # what training and evaluate feed the model
        probs, logits, pixels = wrapper(torch.from_numpy(images))  # what every artifact computes
    assert torch.equal(pixels, trained.classifier.preprocess.to_float(sized))
    assert torch.equal(logits, train_logits)
    assert torch.equal(probs, trained.classifier.probabilities(train_logits))


def test_the_reference_in_a_bundle_is_the_trained_model(digits_run, digits_bundle):
    reference = load_reference(digits_bundle / "reference.pt")
    trained = load_trained(digits_run)
    assert reference.temperature == trained.classifier.temperature
    for name, tensor in trained.classifier.state_dict().items():
        assert torch.equal(reference.state_dict()[name], tensor), name
