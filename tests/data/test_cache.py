"""The decode cache: a hit skips decoding, any changed or added file invalidates it."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lightship.data import DataConfig, load_split
from lightship.data import cache as cache_module


@pytest.fixture
def count_decodes(monkeypatch):
    """Counts calls to the decoder behind the cache."""
    calls = []
    real = cache_module.decode_files

    def counting(paths, *args, **kwargs):
        calls.append(len(paths))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(cache_module, "decode_files", counting)
    return calls


def _config(root, tmp_path) -> DataConfig:
    return DataConfig(
        source="imagefolder", root=root, cache_dir=tmp_path / "cache", image_size=8, num_workers=1
    )


def test_second_load_is_a_cache_hit(tmp_path, make_tree, count_decodes):
    root = make_tree(tmp_path / "data", {"train/a": 5, "train/b": 5, "test/a": 2})
    config = _config(root, tmp_path)
    first = load_split(config, "train")
    val = load_split(config, "val")  # carved from train/: served by the same cache entry
    assert count_decodes == [10]
    second = load_split(config, "train")
    assert count_decodes == [10]
    assert np.array_equal(first.images.numpy(), second.images.numpy())
    assert len(first.labels) + len(val.labels) == 10
    entries = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(entries) == 3 and not any(name.endswith(".tmp") for name in entries)


def test_changed_or_added_file_invalidates(tmp_path, make_tree, save_image, count_decodes):
    root = make_tree(tmp_path / "data", {"train/a": 3, "test/a": 1})
    config = _config(root, tmp_path)
    config.val_fraction = 0.0
    load_split(config, "train")
    changed = save_image(root / "train/a/000.png", (12, 10), (1, 2, 3))
    os.utime(changed, ns=(1, 1_000_000_000))  # a distinct mtime even on coarse filesystems
    after_change = load_split(config, "train")
    assert count_decodes == [3, 3]
    assert after_change.images[0, 0, 0].tolist() == [1, 2, 3]
    save_image(root / "train/a/new.png")
    assert len(load_split(config, "train").labels) == 4
    assert count_decodes == [3, 3, 4]


def test_cache_key_ignores_where_the_data_lives(tmp_path, make_tree, count_decodes):
    make_tree(tmp_path / "one", {"train/a": 2, "test/a": 1})
    before = load_split(_config(tmp_path / "one", tmp_path), "test")
    (tmp_path / "one").rename(tmp_path / "two")  # rename keeps sizes and mtimes
    after = load_split(_config(tmp_path / "two", tmp_path), "test")
    assert count_decodes == [1]
    assert np.array_equal(before.images.numpy(), after.images.numpy())


def test_damaged_entry_is_rebuilt(tmp_path, make_tree, count_decodes):
    root = make_tree(tmp_path / "data", {"train/a": 2, "test/a": 1})
    config = _config(root, tmp_path)
    load_split(config, "test")
    for npy in (tmp_path / "cache").glob("*.images.npy"):
        npy.write_bytes(b"garbage")
    again = load_split(config, "test")
    assert count_decodes == [1, 1] and again.images.shape == (1, 8, 8, 3)


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LIGHTSHIP_CACHE", str(tmp_path / "here"))
    assert cache_module.default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("LIGHTSHIP_CACHE")
    assert cache_module.default_cache_dir().parts[-2:] == (".cache", "lightship")


def test_unwritable_cache_folder_warns_and_trains_from_memory(tmp_path, make_tree, caplog):
    root = make_tree(tmp_path / "data", {"train/a": 3, "train/b": 3})
    (tmp_path / "file").write_text("a regular file: nothing can be created below it, even by root")
    config = DataConfig(source="imagefolder", root=root, cache_dir=tmp_path / "file" / "cache", image_size=8)
    with caplog.at_level("WARNING"):
        split = load_split(config, "train")
    assert len(split.labels) > 0
    assert "cannot write the decode cache" in caplog.text and "in memory" in caplog.text


def test_a_cache_write_failing_midway_leaves_no_file_of_the_entry(tmp_path, make_tree, monkeypatch, caplog):
    """A disk that fills up after the images were written: the entry's files and temp files all go."""
    root = make_tree(tmp_path / "data", {"train/a": 3, "train/b": 3})
    real, calls = cache_module.save_array, []

    def fill_up(path, array):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        real(path, array)

    monkeypatch.setattr(cache_module, "save_array", fill_up)
    with caplog.at_level("WARNING"):
        load_split(_config(root, tmp_path), "train")
    assert len(calls) == 2 and "No space left" in caplog.text
    assert list((tmp_path / "cache").iterdir()) == []
