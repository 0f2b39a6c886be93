"""The stream path: per-sample decode with v2 transforms, bad files substituted at run time."""

from __future__ import annotations

import torch

from lightship.data import AugmentConfig, DataConfig
from lightship.data.prepare import open_source
from lightship.data.stream import FileImageDataset, stream_loader, train_transform


def test_train_transform_keeps_uint8_at_size():
    image = torch.randint(1, 256, (3, 16, 16), dtype=torch.uint8)
    transform = train_transform(AugmentConfig(translate=2, flip="alternating", cutout=4), 16)
    out = transform(image)
    assert out.shape == (3, 16, 16) and out.dtype == torch.uint8
    assert int((out == 0).all(dim=0).sum()) == 16  # a 4 x 4 cutout


def test_file_dataset_substitutes_bad_files_and_batches(tmp_path, make_tree, caplog):
    root = make_tree(tmp_path, {"a": 4, "b": 4}, size=(20, 10))
    (root / "a" / "001.png").write_bytes(b"broken")
    split = open_source(DataConfig(source="imagefolder", root=root, val_fraction=0, test_fraction=0))
    dataset = FileImageDataset(split.splits["train"], 8, train_transform(AugmentConfig(), 8))
    image, label = dataset[1]
    assert image.shape == (8, 8, 3) and image.dtype == torch.uint8 and label == 0
    dataset[1]
    assert sum("001.png" in r.getMessage() for r in caplog.records) == 1  # logged once
    loader = stream_loader(dataset, 4, train=True, num_workers=0, seed=0)
    batches = list(loader)
    assert len(batches) == 2 and batches[0][0].shape == (4, 8, 8, 3) and batches[0][1].dtype == torch.int64
