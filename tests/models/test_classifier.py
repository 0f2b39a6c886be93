"""The two resize modes: what "crop" cuts, that both leave a finished square alone, and that the data
pipeline's resize is the model's own operation (rounded to uint8)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightship.data.decode import resize_images
from lightship.models import ModelMeta, resize_to
from lightship.models.classifier import Preprocess, centre_square


def test_centre_square_takes_the_middle_of_the_longer_side() -> None:
    x = torch.arange(5 * 8, dtype=torch.float32).view(1, 1, 5, 8)
    square = centre_square(x)
    assert square.shape == (1, 1, 5, 5) and torch.equal(square, x[..., :, 1:6])  # (8 - 5) // 2 = 1
    tall = torch.arange(9 * 4, dtype=torch.float32).view(1, 1, 9, 4)
    assert torch.equal(centre_square(tall), tall[..., 2:6, :])


def test_crop_keeps_the_aspect_ratio_and_squash_does_not() -> None:
    # A wide picture: a bright square in the middle, dark bars left and right.
    wide = torch.zeros(1, 3, 40, 120)
    wide[..., :, 40:80] = 200.0
    assert torch.allclose(resize_to(wide, 16, "crop"), torch.full((1, 3, 16, 16), 200.0), atol=1e-3)
    squashed = resize_to(wide, 16, "squash")
    assert squashed[..., 0].max() < 1.0 and squashed[..., 8].min() > 199.0  # the bars are squeezed in


@pytest.mark.parametrize("mode", ["squash", "crop"])
def test_a_finished_square_passes_unchanged_so_training_and_artifacts_agree(mode: str) -> None:
    x = torch.randint(0, 256, (2, 3, 24, 24)).float()
    assert torch.equal(resize_to(x, 24, mode), x)


@pytest.mark.parametrize("mode", ["squash", "crop"])
def test_the_data_pipeline_resize_is_the_models_rounded(mode: str) -> None:
    images = np.random.default_rng(0).integers(0, 256, (3, 30, 52, 3), dtype=np.uint8)
    stored = resize_images(images, 16, mode)
    pre = Preprocess(16, [0.0] * 3, [1 / 255] * 3, resize=mode)  # normalise = identity on 0..255
    inside = pre.resize(pre.to_float(torch.from_numpy(images)))
    assert torch.equal(torch.from_numpy(stored).permute(0, 3, 1, 2).float(), inside.round().clamp(0, 255))


def test_the_resize_mode_travels_in_the_model_description() -> None:
    meta = ModelMeta(
        "airbench", 2, ["a", "b"], 32, [0.5] * 3, [0.25] * 3, {"widths": [8, 8, 8]}, resize="crop"
    )
    assert meta.build().preprocess.resize_mode == "crop"
    assert ModelMeta(**{k: v for k, v in meta.to_dict().items() if k != "resize"}).resize == "squash"
    with pytest.raises(ValueError, match="resize mode 'stretch'"):
        Preprocess(32, [0.5] * 3, [0.25] * 3, resize="stretch")
