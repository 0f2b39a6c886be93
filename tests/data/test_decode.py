"""Every image mode becomes RGB at size; bad files are skipped and reported, or refused with strict."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from lightship.data import DataConfig, load_split
from lightship.data.decode import decode_files, decode_to_size, resize_images
from lightship.errors import DataError


def _config(root, tmp_path, **kwargs) -> DataConfig:
    return DataConfig(
        source="imagefolder", root=root, cache_dir=tmp_path / "cache", num_workers=1, image_size=8, **kwargs
    )


def test_modes_become_rgb_at_size(tmp_path, save_image):
    size = (20, 12)
    cases = {
        "gray.png": ("L", 128, (128, 128, 128)),
        "rgba.png": ("RGBA", (10, 20, 30, 0), (10, 20, 30)),  # alpha dropped, not composited
        "cmyk.jpg": ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
        "rgb.bmp": ("RGB", (1, 2, 3), (1, 2, 3)),
        "rgb.webp": ("RGB", (0, 0, 255), (0, 0, 255)),
    }
    for name, (mode, color, expected) in cases.items():
        path = save_image(tmp_path / name, size, color, mode)
        pixels = decode_to_size(path, 8)
        assert pixels.shape == (8, 8, 3) and pixels.dtype == np.uint8, name
        assert np.abs(pixels.astype(int) - expected).max() <= 3, name

    palette = Image.new("P", size)
    palette.putpalette([255, 0, 0] + [0, 255, 0] * 255)
    palette.save(tmp_path / "palette.gif")
    assert decode_to_size(tmp_path / "palette.gif", 8)[0, 0].tolist() == [255, 0, 0]

    sixteen = Image.fromarray(np.full((12, 20), 65535, dtype=np.uint16))
    sixteen.save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    assert decode_to_size(tmp_path / "deep.png", 8).min() == 255  # scaled, not clipped garbage


def test_exif_rotation_is_applied(tmp_path):
    # 20 wide x 10 high, left half red; EXIF orientation 6 = displayed rotated 90 degrees clockwise.
    array = np.zeros((10, 20, 3), dtype=np.uint8)
    array[:, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(array).save(tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    pixels = decode_to_size(tmp_path / "rotated.jpg", 16)
    assert pixels.shape == (16, 16, 3)
    # After rotation the red half is on top.
    assert pixels[1, 8, 0] > 200 and pixels[1, 8, 1] < 60
    assert pixels[14, 8, 0] < 60


def test_resize_policy_matches_resize_to():
    from lightship.models.classifier import LEVEL_NUDGE, resize_to

    images = np.random.default_rng(0).integers(0, 256, (3, 17, 9, 3), dtype=np.uint8)
    out = resize_images(images, 8)
    resized = resize_to(torch.from_numpy(images).permute(0, 3, 1, 2).float(), 8)
    expected = (resized + LEVEL_NUDGE).round().clamp(0, 255)
    assert np.array_equal(out, expected.to(torch.uint8).permute(0, 2, 3, 1).numpy())
    assert resize_images(out, 8) is out  # already at size: untouched


def _write_bad_files(root):
    good = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 9)).save(good, format="JPEG")
    (root / "train/a").mkdir(parents=True, exist_ok=True)
    (root / "train/a/truncated.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (root / "train/a/empty.png").write_bytes(b"")
    (root / "train/a/text.jpg").write_text("this is not an image")
    (root / "train/a/corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    # 8100 x 8100 = 65.6 M pixels > MAX_PIXELS, yet a tiny file (1-bit, compresses to almost nothing).
    Image.new("1", (8100, 8100)).save(root / "train/a/bomb.png")
    return {"truncated.jpg", "empty.png", "text.jpg", "corrupt.png", "bomb.png"}


def test_bad_files_are_skipped_and_reported(tmp_path, make_tree, capsys):
    root = make_tree(tmp_path / "data", {"train/a": 3, "train/b": 3, "test/a": 1, "test/b": 1})
    bad_names = _write_bad_files(root)
    train = load_split(_config(root, tmp_path, val_fraction=0.0), "train")
    assert len(train.labels) == 6 and train.images.shape == (6, 8, 8, 3)
    assert {b.path.rsplit("/", 1)[1] for b in train.bad_files} == bad_names
    reasons = {b.path.rsplit("/", 1)[1]: b.reason for b in train.bad_files}
    assert "empty" in reasons["empty.png"] and "bomb" in reasons["bomb.png"]
    assert "truncated" in reasons["truncated.jpg"]
    err = capsys.readouterr().err
    assert "skipping 5 bad image file(s)" in err and "bomb.png" in err


def test_strict_lists_every_bad_file(tmp_path, make_tree):
    root = make_tree(tmp_path / "data", {"train/a": 2, "test/a": 1})
    bad_names = _write_bad_files(root)
    with pytest.raises(DataError) as info:
        load_split(_config(root, tmp_path, strict=True, val_fraction=0.0), "train")
    assert all(name in str(info.value) for name in bad_names)


def test_parallel_decode_matches_serial(tmp_path, make_tree):
    root = make_tree(tmp_path, {"a": 300, "b": 10}, size=(9, 7))
    (root / "a" / "bad.png").write_bytes(b"junk")
    paths = sorted(root.rglob("*.png"))
    serial = decode_files(paths, 8, workers=1)
    parallel = decode_files(paths, 8, workers=2)
    assert np.array_equal(serial.images, parallel.images) and np.array_equal(serial.index, parallel.index)
    assert [b.path for b in parallel.bad_files] == [str(root / "a" / "bad.png")]
    assert parallel.bad_index.tolist() == [paths.index(root / "a" / "bad.png")]


def test_hostile_corpus_as_a_training_folder_is_reported_file_by_file(tmp_path, make_tree):
    from lightship.fuzz import hostile_images

    root = make_tree(tmp_path / "data", {"train/a": 3, "train/b": 3, "test/a": 1, "test/b": 1})
    corpus = hostile_images()
    for name, data in corpus:
        (root / "train" / "a" / f"hostile-{name}").write_bytes(data)
    train = load_split(_config(root, tmp_path, val_fraction=0.0), "train")
    bad = {b.path.rsplit("/", 1)[1].removeprefix("hostile-"): b.reason for b in train.bad_files}
    assert all(reason for reason in bad.values())
    # Every file is either trained on or reported with its reason: 6 good ones plus the corpus.
    assert len(train.labels) + len(bad) == 6 + len(corpus)
    assert "bomb-400mp.png" in bad and "png-valid.png" not in bad
    assert train.images.shape[1:] == (8, 8, 3)
