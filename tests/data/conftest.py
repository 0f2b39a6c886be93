"""Small on-disk datasets built with Pillow in tmp_path (nothing is downloaded)."""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CIFAR_CLASSES = [f"class{i}" for i in range(10)]


def save_image(
    path: Path, size: tuple[int, int] = (12, 10), color=(200, 30, 90), mode: str = "RGB", fmt=None
):
    """A solid-colour image (width, height) at ``path``, creating folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, format=fmt)
    return path


@pytest.fixture
def make_tree() -> Callable[..., Path]:
    """``make_tree(root, {"train/cat": 3, ...})``: that many distinct PNGs per folder."""

    def make(root: Path, counts: dict[str, int], size: tuple[int, int] = (12, 10)) -> Path:
        for folder, count in counts.items():
            for i in range(count):
                shade = (37 * i + 11 * len(folder)) % 256
                save_image(root / folder / f"{i:03d}.png", size, (shade, 255 - shade, 7 * i % 256))
        return root

    return make


def cifar_batches(per_batch: int = 20, seed: int = 0) -> dict[str, dict]:
    """Pickle-format batches like the official release, with random pixels and balanced labels."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(i % 10) for i in range(per_batch)]
        batches[name] = {b"batch_label": name.encode(), b"data": data, b"labels": labels}
    batches["batches.meta"] = {b"label_names": [c.encode() for c in CIFAR_CLASSES]}
    return batches


def write_cifar(root: Path, archive: bool, per_batch: int = 20) -> dict[str, dict]:
    """Write the batches as cifar-10-python.tar.gz or as an extracted cifar-10-batches-py/ folder."""
    batches = cifar_batches(per_batch)
    root.mkdir(parents=True, exist_ok=True)
    if archive:
        with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tar:
            for name, batch in batches.items():
                payload = pickle.dumps(batch)
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    else:
        folder = root / "cifar-10-batches-py"
        folder.mkdir()
        for name, batch in batches.items():
            (folder / name).write_bytes(pickle.dumps(batch))
    return batches


@pytest.fixture(name="save_image")
def save_image_fixture() -> Callable[..., Path]:
    return save_image


@pytest.fixture(name="write_cifar")
def write_cifar_fixture() -> Callable[..., dict[str, dict]]:
    return write_cifar


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    """No test writes decode caches into the real ~/.cache/lightship."""
    monkeypatch.setenv("LIGHTSHIP_CACHE", str(tmp_path / "default-cache"))
