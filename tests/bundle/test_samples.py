"""Verification and calibration images: stratified and seeded over every class (ImageFolder splits are sorted
by class), an off-size row of real images (the files themselves when they are off size, seeded rescaled
copies when the data is at the model's size), topped up to 100 images, and what samples.npz keeps."""

from __future__ import annotations

import numpy as np
from PIL import Image

from lightship.bundle.samples import (
    KEPT_MAX_PIXELS,
    MIN_AGREEMENT_IMAGES,
    calibration_samples,
    kept,
    load_samples,
    save_samples,
    seeded_sizes,
    stratified,
    verification_samples,
    within_pixels,
)
from lightship.data.config import DataConfig


def test_stratified_takes_every_class_in_proportion_and_at_least_ten():
    labels = np.repeat(np.arange(4), [900, 90, 8, 2])  # sorted by class, like an ImageFolder split
    chosen = stratified(labels, 100, seed=0)
    counts = np.bincount(labels[chosen], minlength=4)
    assert counts.tolist() == [90, 10, 8, 2]  # proportional, min(10, class size) for the small ones
    balanced = np.repeat(np.arange(4), 100)
    prefix = balanced[stratified(balanced, 100, seed=0)[:12]]
    assert len(set(prefix)) > 1, "the order is shuffled: a prefix is no longer one class"
    np.testing.assert_array_equal(chosen, stratified(labels, 100, seed=0))
    assert not np.array_equal(chosen, stratified(labels, 100, seed=1))


def test_seeded_sizes_cover_smaller_larger_odd_and_one_pixel_wide():
    sizes = seeded_sizes(10, 32, seed=0)
    assert (32, 32) not in sizes
    assert any(h < 32 and w < 32 for h, w in sizes) and any(h > 32 and w > 32 for h, w in sizes)
    assert any(max(h, w) >= 3 * min(h, w) for h, w in sizes)
    assert any(1 in (h, w) for h, w in sizes)


def _folder(root, sizes: dict[str, list[tuple[int, int]]]) -> DataConfig:
    """A test/ split of JPEG files per class at the given (height, width) sizes, plus a small train/."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name, shapes in sizes.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i, (h, w) in enumerate(shapes):
                pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return DataConfig(source="imagefolder", root=root, image_size=16, num_workers=0, cache_dir=root / "cache")


def test_a_mixed_size_folder_is_verified_on_its_files_and_topped_up(tmp_path):
    config = _folder(tmp_path, {"a": [(20, 40), (9, 9), (16, 16)] * 4, "b": [(50, 7), (16, 16)] * 3})
    samples = verification_samples(config, 1000, 16)
    rows = samples.model_size
    assert len(rows.images) == MIN_AGREEMENT_IMAGES and rows.original.sum() == 18
    assert rows.images.shape[1:] == (16, 16, 3)
    off = samples.off_size
    described = samples.describe()
    assert described["model_size"]["per_class"] == {"a": 12, "b": 6}
    assert described["model_size"]["rescaled_copies"] == MIN_AGREEMENT_IMAGES - 18
    # Files not at 16x16 are used as they are; the 16x16 ones are replaced by rescaled copies.
    assert "11 images at their own sizes" in off.source and "7 rescaled copies" in off.source
    assert {off.image(i).shape[:2] for i in range(len(off))} >= {(20, 40), (9, 9), (50, 7)}
    assert all(off.image(i).shape[:2] != (16, 16) for i in range(len(off)))


def test_data_at_the_model_size_gets_seeded_rescaled_copies(tmp_path):
    config = _folder(tmp_path, {name: [(16, 16)] * 12 for name in "abc"})
    samples = verification_samples(config, 30, 16)
    off = samples.off_size
    assert off.source == f"{len(off)} rescaled copies at seeded sizes (seed 0)"
    shapes = [off.image(i).shape[:2] for i in range(len(off))]
    assert any(1 in shape for shape in shapes) and all(shape != (16, 16) for shape in shapes)
    again = verification_samples(config, 30, 16).off_size
    assert all(np.array_equal(off.image(i), again.image(i)) for i in range(len(off)))
    train, counts = calibration_samples(config, 9, 16)  # min(10, class size) of every class wins over n
    assert counts["per_class"] == {"a": 10, "b": 10, "c": 10} and len(train.images) == 30


def test_the_bundle_keeps_at_most_32_off_size_images_under_a_megapixel(tmp_path):
    config = _folder(tmp_path, {"a": [(1100, 1000)] * 2 + [(30, 30)] * 40})
    samples = verification_samples(config, 100, 16)
    keep = kept(samples)
    assert len(keep.off_size) <= 32 and all(
        np.prod(keep.off_size.image(i).shape[:2]) <= KEPT_MAX_PIXELS for i in range(len(keep.off_size))
    )
    assert keep.model_size.original.all(), "rescaled copies are never kept"
    smaller = within_pixels(np.zeros((1100, 1000, 3), np.uint8))
    assert np.prod(smaller.shape[:2]) <= KEPT_MAX_PIXELS and smaller.shape[0] > smaller.shape[1]
    save_samples(keep, tmp_path / "samples.npz")
    loaded = load_samples(tmp_path / "samples.npz")
    assert len(loaded.off_size) == len(keep.off_size)
    for i in range(len(keep.off_size)):
        np.testing.assert_array_equal(loaded.off_size.image(i), keep.off_size.image(i))
    np.testing.assert_array_equal(loaded.model_size.labels, keep.model_size.labels)
    with np.load(tmp_path / "samples.npz", allow_pickle=False) as data:
        assert not any("path" in key or "file" in key for key in data.files), "pixels only, no file names"


def test_without_data_the_images_are_synthetic_and_unlabelled():
    samples = verification_samples(None, 10, 32)
    assert samples.model_size.labels is None and len(samples.model_size.images) == MIN_AGREEMENT_IMAGES
    assert samples.describe()["labelled"] is False
    assert len(samples.off_size) == 100
