"""ImageDataModule end to end on digits, with and without a Lightning trainer; stream mode on files."""

from __future__ import annotations

import pickle

import lightning as L
import pytest
import torch
from torch import nn

from lightship.data import AugmentConfig, DataConfig, ImageDataModule, InMemoryLoader
from lightship.errors import DataError


def test_digits_module_after_setup():
    module = ImageDataModule(DataConfig(source="digits", image_size=16, batch_size=64, eval_batch_size=100))
    module.setup("fit")
    assert module.mode == "memory" and module.num_classes == 10 and module.class_names[3] == "3"
    assert module.bad_files == []
    assert len(module.mean) == 3 and all(0.0 < m < 0.5 for m in module.mean)
    assert all(0.1 < s < 0.5 for s in module.std)
    train = module.train_dataloader()
    assert isinstance(train, InMemoryLoader)
    images, labels = next(iter(train))
    assert images.shape == (64, 16, 16, 3) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    val = module.val_dataloader()
    sizes = [len(batch[1]) for batch in val]
    assert sum(sizes) == len(module._memory["val"][1]) and sizes[-1] < 100
    sample = module.sample_train_images(10)
    assert sample.shape == (10, 16, 16, 3) and torch.equal(sample, module.sample_train_images(10))


def test_configured_mean_std_are_kept():
    config = DataConfig(source="digits", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    module = ImageDataModule(config)
    module.setup()
    assert module.mean == (0.5, 0.5, 0.5) and module.std == (0.25, 0.25, 0.25)


def test_invalid_config_is_explained():
    with pytest.raises(DataError, match=r"val_fraction \+ data.test_fraction"):
        ImageDataModule(DataConfig(source="digits", val_fraction=0.6, test_fraction=0.5)).setup()


class _Probe(L.LightningModule):
    """Records the labels of the first batch of each training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(8 * 8 * 3, 10)
        self.first_batches: list[list[int]] = []

    def training_step(self, batch, batch_idx):
        images, labels = batch
        if batch_idx == 0:
            self.first_batches.append(labels.tolist())
        logits = self.layer(images.float().flatten(1) / 255)
        return nn.functional.cross_entropy(logits, labels)

    def validation_step(self, batch, batch_idx):
        images, labels = batch
        self.log("val_loss", nn.functional.cross_entropy(self.layer(images.float().flatten(1) / 255), labels))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_trainer_drives_epochs_of_the_memory_loader():
    config = DataConfig(source="digits", image_size=8, batch_size=32, augment=AugmentConfig(cutout=2))
    module, probe = ImageDataModule(config), _Probe()
    trainer = L.Trainer(
        max_epochs=3,
        limit_train_batches=2,
        limit_val_batches=1,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(probe, datamodule=module)
    assert len(probe.first_batches) == 3
    assert probe.first_batches[0] != probe.first_batches[1] != probe.first_batches[2]
    loader = module.train_dataloader()
    loader.epoch_fn = lambda: 1  # what a resumed run at epoch 1 sees
    labels = next(iter(loader))[1].tolist()
    assert labels == probe.first_batches[1]


def test_stream_mode_on_files(tmp_path, make_tree):
    root = make_tree(tmp_path, {"train/a": 6, "train/b": 6, "test/a": 2, "test/b": 2})
    (root / "train" / "b" / "bad.png").write_bytes(b"junk")
    config = DataConfig(
        source="imagefolder",
        root=root,
        mode="stream",
        image_size=8,
        batch_size=4,
        num_workers=0,
        val_fraction=0.0,
        cache_dir=tmp_path / "cache",
    )
    module = ImageDataModule(config)
    module.setup()
    assert module.mode == "stream" and module.class_names == ["a", "b"]
    assert module.sample_train_images(5).shape == (5, 8, 8, 3)
    train = module.train_dataloader()
    assert train.persistent_workers is False and len(train) == 3
    images, _ = next(iter(train))
    assert images.shape == (4, 8, 8, 3) and images.dtype == torch.uint8
    pickle.dumps(train.dataset)  # spawn-started workers receive the dataset pickled
    assert not (tmp_path / "cache").exists()  # stream mode decodes on access, no cache


def test_strict_stream_mode_checks_files_before_training(tmp_path, make_tree):
    root = make_tree(tmp_path, {"a": 3, "b": 3})
    (root / "a" / "bad.png").write_bytes(b"junk")
    config = DataConfig(source="imagefolder", root=root, mode="stream", strict=True, num_workers=0)
    with pytest.raises(DataError, match=r"bad\.png"):
        ImageDataModule(config).setup()


def test_auto_mode_streams_when_over_the_memory_limit(tmp_path, make_tree):
    root = make_tree(tmp_path, {"a": 3, "b": 3})
    config = DataConfig(source="imagefolder", root=root, memory_limit_gb=1e-6, num_workers=0)
    module = ImageDataModule(config)
    module.setup()
    assert module.mode == "stream"
