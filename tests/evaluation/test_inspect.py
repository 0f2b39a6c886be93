"""``lightship data inspect`` on small planted trees: each kind of problem is found, clean data passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightship.errors import DataError
from lightship.evaluation.inspect import inspect_command, inspect_tree


def write_image(path: Path, seed: int, size: tuple[int, int] = (24, 16)) -> None:
    """A random image (distinct bytes per seed) of ``size`` = (width, height)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def make_clean(root: Path, per_class: int = 3) -> Path:
    seed = 0
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            for i in range(per_class):
                seed += 1
                write_image(root / split / name / f"{i}.png", seed)
    return root


def test_clean_tree_passes_strict_and_writes_json_and_samples(tmp_path: Path) -> None:
    root = make_clean(tmp_path / "data")
    write_image(root / "train" / "cat" / "wide.png", 99, size=(40, 10))
    out = tmp_path / "out"
    assert inspect_command(root, strict=True, out=out) == 0
    found = json.loads((out / "inspect.json").read_text())
    assert found["problems"] == []
    assert found["counts"] == {"train": {"cat": 4, "dog": 3}, "test": {"cat": 3, "dog": 3}}
    assert found["sizes"]["width"] == {"min": 24, "median": 24, "max": 40}
    assert found["sizes"]["most_common"][0] == {"size": "24x16", "count": 12}
    with Image.open(out / "samples.png") as image:
        assert image.format == "PNG" and min(image.size) >= 200


def test_planted_duplicate_corrupt_file_and_imbalance_are_found(tmp_path: Path) -> None:
    root = make_clean(tmp_path / "data")
    shutil.copy(root / "train" / "cat" / "0.png", root / "test" / "dog" / "leak.png")
    (root / "train" / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for i in range(10):
        write_image(root / "train" / "cat" / f"extra{i}.png", 1000 + i)
    result = inspect_tree(root)
    assert result.duplicates_across_splits == [["test/dog/leak.png", "train/cat/0.png"]]
    assert [c["path"] for c in result.corrupt] == ["train/dog/broken.jpg"]
    assert result.counts["train"] == {"cat": 13, "dog": 3}  # the corrupt file is not counted
    text = "\n".join(result.problems)
    assert "byte-identical" in text
    assert "cannot be decoded" in text
    assert "train: classes are imbalanced, largest/smallest = 13/3" in text
    assert inspect_command(root, strict=True) == 1
    assert inspect_command(root) == 0  # without --strict it only reports


def test_empty_class_and_flat_tree(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    for i in range(3):
        write_image(root / "cat" / f"{i}.png", i)
    (root / "dog").mkdir()
    result = inspect_tree(root)
    assert result.counts == {"all": {"cat": 3, "dog": 0}}
    assert result.problems == ["all: 1 class(es) with no readable images: dog"]
    assert inspect_command(root, strict=True) == 1


def test_missing_root_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        inspect_command(tmp_path / "nope")
