"""Small on-disk datasets built with Pillow in tmp_path (nothing is downloaded)."""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightship.data import DataConfig

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


@dataclass
class SourceExample:
    """Small real data for one source, and what opening it must give: every class in every split, the files
    planted as bad (by file name, per split) and the number of good images in all splits."""

    config: DataConfig
    class_names: list[str]
    good: int
    bad: dict[str, list[str]] = field(default_factory=dict)


def _planted_tree(root: Path) -> Path:
    """train/val/test folders of three classes, distinct images of odd sizes, and one corrupt file in train."""
    counts = {f"{split}/{name}": n for split, n in (("train", 3), ("val", 1), ("test", 1)) for name in "abc"}
    for folder, count in counts.items():
        for i in range(count):
            pixels = np.random.default_rng([i, len(folder), ord(folder[-1])]).integers(0, 256, (9, 13, 3))
            path = root / folder / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels.astype(np.uint8)).save(path)
    (root / "train" / "b" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    return root


def _digits(tmp_path: Path) -> SourceExample:
    return SourceExample(DataConfig(source="digits", image_size=8), [str(d) for d in range(10)], good=1797)


def _cifar10(tmp_path: Path) -> SourceExample:
    write_cifar(tmp_path / "cifar", archive=True, per_batch=20)
    config = DataConfig(source="cifar10", root=tmp_path / "cifar", val_fraction=0.2)
    return SourceExample(config, CIFAR_CLASSES, good=6 * 20)


def _imagefolder(tmp_path: Path) -> SourceExample:
    config = DataConfig(
        source="imagefolder", root=_planted_tree(tmp_path / "tree"), image_size=8, num_workers=0
    )
    return SourceExample(config, ["a", "b", "c"], good=15, bad={"train": ["corrupt.png"]})


def _shards(tmp_path: Path) -> SourceExample:
    """The planted tree written by ``lightship data shard``, which leaves the corrupt file out and says so."""
    from lightship.cli import main

    out = tmp_path / "shards"
    assert main(["data", "shard", str(_planted_tree(tmp_path / "tree")), str(out), "--shard_size", "4"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert [Path(b["path"]).name for b in index["bad_files"]] == ["corrupt.png"]
    config = DataConfig(source="shards", root=out, image_size=8, num_workers=0)
    return SourceExample(config, ["a", "b", "c"], good=15)


#: A builder of example data per registered source. A new source gets its conformance tests from the table;
#: they fail until a builder for it is added here.
SOURCE_EXAMPLES: dict[str, Callable[[Path], SourceExample]] = {
    "digits": _digits,
    "cifar10": _cifar10,
    "imagefolder": _imagefolder,
    "shards": _shards,
}


@pytest.fixture
def source_example(tmp_path: Path) -> Callable[[str], SourceExample]:
    def build(source: str) -> SourceExample:
        if source not in SOURCE_EXAMPLES:
            pytest.fail(
                f"data source {source!r} has no example data: add a builder to SOURCE_EXAMPLES in {__file__}"
            )
        return SOURCE_EXAMPLES[source](tmp_path)

    return build
