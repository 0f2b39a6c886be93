"""Sources: digits, CIFAR-10 (archive and folder), image folders; splits and helpful errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightship.data import DataConfig, load_split
from lightship.data.imagefolder import scan_image_files
from lightship.data.prepare import open_source
from lightship.data.splits import stratified_split
from lightship.errors import DataError
from lightship.images import iter_image_files


def test_stratified_split_is_disjoint_seeded_and_keeps_class_shares():
    labels = np.repeat(np.arange(4), [50, 30, 10, 1])
    parts = stratified_split(labels, {"val": 0.2, "test": 0.1}, seed=3)
    joined = np.concatenate(list(parts.values()))
    assert sorted(joined.tolist()) == list(range(len(labels)))
    assert np.bincount(labels[parts["val"]], minlength=4).tolist() == [10, 6, 2, 0]
    assert 3 in labels[parts["train"]]  # a one-sample class stays in train
    again = stratified_split(labels, {"val": 0.2, "test": 0.1}, seed=3)
    other = stratified_split(labels, {"val": 0.2, "test": 0.1}, seed=4)
    assert np.array_equal(parts["val"], again["val"])
    assert not np.array_equal(parts["val"], other["val"])


def test_digits_are_rgb_uint8_split_by_fractions():
    config = DataConfig(source="digits", image_size=16, val_fraction=0.1, test_fraction=0.2)
    train, val, test = (load_split(config, s) for s in ("train", "val", "test"))
    assert train.class_names == [str(d) for d in range(10)]
    assert train.images.shape[1:] == (16, 16, 3) and train.images.dtype == torch.uint8
    assert len(train.labels) + len(val.labels) + len(test.labels) == 1797
    assert abs(len(test.labels) - 0.2 * 1797) < 10 and abs(len(val.labels) - 0.1 * 1797) < 10
    assert int(train.images.max()) > 200  # 0..16 scaled to 0..255
    assert set(test.labels.tolist()) == set(range(10))
    assert bool((train.images[..., 0] == train.images[..., 2]).all())  # gray replicated to RGB


@pytest.mark.parametrize("archive", [True, False])
def test_cifar10_reads_archive_or_folder(tmp_path, write_cifar, archive):
    batches = write_cifar(tmp_path, archive=archive)
    source = open_source(DataConfig(source="cifar10", root=tmp_path, val_fraction=0.1))
    assert source.class_names == [f"class{i}" for i in range(10)]
    assert len(source.splits["train"]) + len(source.splits["val"]) == 100
    assert len(source.splits["val"]) == 10
    test = source.splits["test"]
    first = batches["test_batch"][b"data"][0]
    # Row layout is R plane, G plane, B plane: pixel (0, 1) is bytes 1, 1025, 2049.
    assert test.images.shape == (20, 32, 32, 3)
    assert test.images[0, 0, 1].tolist() == [first[1], first[1025], first[2049]]
    assert test.labels.tolist() == batches["test_batch"][b"labels"]
    if archive:
        assert not (tmp_path / "cifar-10-batches-py").exists()  # read in place, not extracted


def test_cifar10_missing_says_what_to_download_and_where(tmp_path):
    with pytest.raises(DataError) as info:
        open_source(DataConfig(source="cifar10", root=tmp_path))
    message = str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert str(tmp_path / "cifar-10-python.tar.gz") in message


def test_cifar10_download_failure_is_a_data_error(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(DataError, match=r"could not download CIFAR-10.*cifar-10-python\.tar\.gz"):
        open_source(DataConfig(source="cifar10", root=tmp_path / "new", download=True))


def test_cifar10_damaged_archive(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(DataError, match="damaged"):
        open_source(DataConfig(source="cifar10", root=tmp_path))


def test_missing_root_is_explained(tmp_path):
    with pytest.raises(DataError, match=r"does not exist.*train/<class>"):
        open_source(DataConfig(source="imagefolder", root=tmp_path / "nope"))
    with pytest.raises(DataError, match=r"--data\.root"):
        open_source(DataConfig(source="imagefolder"))


def test_imagefolder_with_train_val_test(tmp_path, make_tree):
    make_tree(tmp_path, {"train/cat": 4, "train/dog": 3, "val/cat": 2, "val/dog": 1, "test/dog": 2})
    (tmp_path / "train/cat/.hidden.png").write_bytes(b"x")
    (tmp_path / "train/cat/notes.txt").write_text("not an image")
    (tmp_path / "train/.cache").mkdir()
    source = open_source(DataConfig(source="imagefolder", root=tmp_path))
    assert source.class_names == ["cat", "dog"]
    assert [len(source.splits[s]) for s in ("train", "val", "test")] == [7, 3, 2]
    assert source.splits["test"].labels.tolist() == [1, 1]
    assert source.splits["train"].files[0][0] == "cat/000.png"


def test_imagefolder_carves_missing_val_from_train(tmp_path, make_tree):
    make_tree(tmp_path, {"train/a": 10, "train/b": 10, "test/a": 1})
    source = open_source(DataConfig(source="imagefolder", root=tmp_path, val_fraction=0.2))
    train, val = source.splits["train"], source.splits["val"]
    assert len(val) == 4 and len(train) == 16 and len(source.splits["test"]) == 1
    assert not {f[0] for f in train.files} & {f[0] for f in val.files}
    assert np.bincount(val.labels).tolist() == [2, 2]


def test_imagefolder_single_tree_split_by_fractions(tmp_path, make_tree):
    make_tree(tmp_path, {"a": 10, "b": 10, "c": 10})
    config = DataConfig(source="imagefolder", root=tmp_path, val_fraction=0.1, test_fraction=0.2)
    source = open_source(config)
    assert source.class_names == ["a", "b", "c"]
    assert [len(source.splits[s]) for s in ("train", "val", "test")] == [21, 3, 6]
    val = load_split(config, "val")
    assert val.images.shape == (3, 32, 32, 3) and val.labels.tolist() == [0, 1, 2]


def test_imagefolder_rejects_class_unknown_to_train(tmp_path, make_tree):
    make_tree(tmp_path, {"train/a": 2, "val/a": 1, "val/zebra": 1})
    with pytest.raises(DataError, match="zebra"):
        open_source(DataConfig(source="imagefolder", root=tmp_path))


def test_imagefolder_without_images_is_an_error(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found"):
        open_source(DataConfig(source="imagefolder", root=tmp_path))


def test_scan_matches_iter_image_files(tmp_path, make_tree):
    make_tree(tmp_path, {"a": 3, "b/deeper": 2, "a.b": 1, ".hidden": 1})
    (tmp_path / "a" / "no_extension").write_bytes(b"x")
    (tmp_path / "a" / "trailing.").write_bytes(b"x")
    (tmp_path / "a" / "two.tar.JPEG").write_bytes(b"x")
    (tmp_path / "a" / "x.TXT").write_text("no")
    (tmp_path / "a" / "UPPER.PNG").write_bytes(b"not decoded by a scan")
    expected = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path)]
    assert [rel for rel, _, _ in scan_image_files(tmp_path)] == expected
    assert "a/UPPER.PNG" in expected
