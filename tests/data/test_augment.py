"""Batched augmentation: shapes, value range, determinism, translate/flip/cutout semantics."""

from __future__ import annotations

import numpy as np
import torch

from lightship.data import AugmentConfig
from lightship.data.augment import BatchAugment


def _batch(n: int = 64, size: int = 16) -> torch.Tensor:
    return torch.randint(
        1, 256, (n, size, size, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )


def _run(config: AugmentConfig, images: torch.Tensor, epoch: int = 0, seed: int = 0) -> torch.Tensor:
    augment = BatchAugment(config, len(images), seed=0)
    return augment(images, torch.arange(len(images)), epoch, torch.Generator().manual_seed(seed))


def test_shape_dtype_and_input_untouched():
    images = _batch()
    original = images.clone()
    out = _run(AugmentConfig(translate=3, flip="random", cutout=5), images)
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert torch.equal(images, original)
    assert not torch.equal(out, images)


def test_deterministic_under_seed():
    images = _batch()
    config = AugmentConfig(translate=2, flip="random", cutout=4)
    assert torch.equal(_run(config, images, seed=5), _run(config, images, seed=5))
    assert not torch.equal(_run(config, images, seed=5), _run(config, images, seed=6))


def test_translate_is_a_crop_of_the_reflect_padded_image():
    images = _batch(32, 8)
    out = _run(AugmentConfig(translate=2, flip="none", cutout=0), images)
    shifted = 0
    for image, result in zip(images.numpy(), out.numpy(), strict=True):
        padded = np.pad(image, ((2, 2), (2, 2), (0, 0)), mode="reflect")
        crops = [padded[y : y + 8, x : x + 8] for y in range(5) for x in range(5)]
        matches = [k for k, crop in enumerate(crops) if np.array_equal(crop, result)]
        assert matches, "output is not a crop of the reflect-padded input"
        shifted += matches[0] != 12  # index 12 = no shift
    assert shifted > 16  # most of 32 images moved (1/25 chance each to stay)


def test_alternating_flip_follows_mask_xor_epoch_parity():
    images = _batch(200, 8)
    config = AugmentConfig(translate=0, flip="alternating", cutout=0)
    augment = BatchAugment(config, 200, seed=0)
    generator = torch.Generator().manual_seed(0)
    indices = torch.arange(200)
    mask = augment.flip_mask
    assert 60 < int(mask.sum()) < 140
    for epoch in (0, 1, 2, 3):
        out = augment(images, indices, epoch, generator)
        flipped = torch.tensor([torch.equal(o, i.flip(1)) for o, i in zip(out, images, strict=True)])
        assert torch.equal(flipped, mask ^ bool(epoch % 2))
    # The mask is per sample index, not per batch position.
    subset = torch.tensor([5, 7, 11])
    out = augment(images[subset], subset, 0, generator)
    assert all(torch.equal(out[k], images[i].flip(1)) == bool(mask[i]) for k, i in enumerate(subset.tolist()))


def test_random_flip_flips_about_half():
    images = _batch(400, 8)
    out = _run(AugmentConfig(translate=0, flip="random", cutout=0), images)
    flipped = sum(torch.equal(o, i.flip(1)) for o, i in zip(out, images, strict=True))
    assert 140 < flipped < 260
    assert sum(torch.equal(o, i) for o, i in zip(out, images, strict=True)) == 400 - flipped


def test_cutout_zeroes_one_square_inside_each_image():
    images = _batch(50, 16)  # values 1..255, so zeros come from cutout only
    out = _run(AugmentConfig(translate=0, flip="none", cutout=5), images)
    zero = (out == 0).all(dim=3)
    assert zero.sum(dim=(1, 2)).tolist() == [25] * 50
    rows, cols = zero.any(dim=2), zero.any(dim=1)
    assert rows.sum(dim=1).tolist() == [5] * 50 and cols.sum(dim=1).tolist() == [5] * 50
    assert torch.equal(out[~zero], images[~zero])
    assert len({tuple(r.nonzero()[0].tolist()) for r in rows}) > 3  # placed at different rows


def test_nothing_enabled_returns_the_batch():
    images = _batch(4)
    assert torch.equal(_run(AugmentConfig(translate=0, flip="none", cutout=0), images), images)
