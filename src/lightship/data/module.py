"""``ImageDataModule``: the data side of training with Lightning, built from a :class:`DataConfig`."""

from __future__ import annotations

import dataclasses

import lightning as L
import numpy as np
import torch
from rich.console import Console
from torch.utils.data import DataLoader, Dataset

from lightship.data.config import DataConfig
from lightship.data.decode import Decoded, find_bad_files, resize_images
from lightship.data.detect import resolve_source
from lightship.data.loaders import InMemoryLoader
from lightship.data.prepare import check_bad_files, materialize, mean_std, open_source, validate
from lightship.data.shard_reader import read_shard_images, shard_loader
from lightship.data.stream import ArrayImageDataset, FileImageDataset, stream_loader, train_transform
from lightship.data.types import BadFile, FileSplit, ShardSplit, Split
from lightship.errors import DataError

#: Training images sampled to compute mean/std on the stream path (where decoding all would be slow).
STREAM_STATS_SAMPLES = 2000


class ImageDataModule(L.LightningDataModule):
    """Train/val/test data for Lightning from a :class:`DataConfig`.

    After ``setup()``: ``class_names``, ``num_classes``, ``mean``/``std`` (0..1), ``bad_files``, ``mode``
    ("memory" or "stream") and ``notes`` (what was adapted to the data, e.g. a batch size capped at the
    training split's size). ``final_split`` is the split ``test_dataloader`` serves: "test", or "val" for a
    source without test images (train/ and val/ folders only). In memory mode the uint8 tensors are put on the trainer's root
    device and batches are augmented there; each DDP rank takes its own slice of a shared permutation.
    """

    def __init__(self, config: DataConfig | None = None) -> None:
        super().__init__()
        self.config = resolve_source(config if config is not None else DataConfig())
        self.class_names: list[str] = []
        self.num_classes = 0
        self.mean: tuple[float, ...] | None = None
        self.std: tuple[float, ...] | None = None
        self.bad_files: list[BadFile] = []
        self.mode: str | None = None
        self.notes: list[str] = []
        self.final_split = "test"
        self._memory: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._datasets: dict[str, Dataset] = {}
        self._shards: dict[str, ShardSplit] = {}
        self._sizes: dict[str, int] = {}

    def prepare_data(self) -> None:
        """Runs once per node before ``setup``: builds the decode cache so other ranks only load it."""
        self._load()

    def setup(self, stage: str | None = None) -> None:
        self._load()

    def _load(self) -> None:
        if self.mode is not None:
            return
        config = self.config
        validate(config)
        source = open_source(config)
        total = sum(len(split) for split in source.splits.values())
        nbytes = total * config.image_size * config.image_size * 3
        mode = config.mode
        if config.source == "shards":
            mode = "stream"  # shards are for data beyond memory: never cached
        elif mode == "auto":
            mode = "memory" if nbytes <= config.memory_limit_gb * 1e9 else "stream"
        bad: list[BadFile] = []
        if mode == "memory":
            decoded_trees: dict[int, Decoded] = {}
            for name, split in source.splits.items():
                images, labels, split_bad, _ = materialize(split, config, decoded_trees)
                self._memory[name] = (torch.from_numpy(images), torch.from_numpy(labels))
                bad.extend(split_bad)
        else:
            bad = self._open_stream(source.splits)
        check_bad_files(bad, config.strict)
        self.class_names = source.class_names
        self.num_classes = len(source.class_names)
        self.bad_files = bad
        self._sizes = {name: len(split) for name, split in source.splits.items()}
        self.mode = mode
        self._fit_batch_size()
        if not self.has_test and self.has_val:
            self.final_split = "val"
        if config.mean is not None and config.std is not None:
            self.mean, self.std = tuple(config.mean), tuple(config.std)
        else:
            train = (
                self._memory["train"][0]
                if mode == "memory"
                else self.sample_train_images(STREAM_STATS_SAMPLES)
            )
            mean, std = mean_std(train)
            self.mean = tuple(config.mean) if config.mean is not None else mean
            self.std = tuple(config.std) if config.std is not None else std

    def _fit_batch_size(self) -> None:
        """Cap the batch size at the training split's size, saying so: a folder of a few photos trains."""
        train = self.split_size("train")
        if train < 2:
            raise DataError(
                f"the training split has {train} usable image(s) ({self._describe_root()}); training needs at "
                "least 2 (BatchNorm normalises over a batch). Add images to the class folders, or lower "
                "--data.val_fraction/--data.test_fraction so more stay for training."
            )
        if self.config.batch_size > train:
            note = (
                f"data.batch_size {self.config.batch_size} is more than the {train} training images: "
                f"batches of {train} are used"
            )
            self.notes.append(note)
            Console(stderr=True).print(f"[bold yellow]note:[/] {note}", highlight=False, soft_wrap=True)
            self.config = dataclasses.replace(self.config, batch_size=train)

    def _describe_root(self) -> str:
        return f"{self.config.source} at {self.config.root}" if self.config.root else self.config.source

    def _open_stream(self, splits: dict[str, Split]) -> list[BadFile]:
        """Datasets that decode on access; with ``strict`` every file is checked once up front.

        Shards were checked when written, and their loaders need the trainer's rank and epoch, so they
        are only kept here and become loaders in ``_loader``.
        """
        config = self.config
        bad: list[BadFile] = []
        for name, split in splits.items():
            transform = train_transform(config.augment, config.image_size) if name == "train" else None
            if isinstance(split, ShardSplit):
                self._shards[name] = split
            elif isinstance(split, FileSplit):
                if config.strict:
                    bad.extend(find_bad_files(split.paths, max(1, config.num_workers)))
                self._datasets[name] = FileImageDataset(split, config.image_size, transform, config.resize)
            else:
                images = resize_images(split.images, config.image_size, config.resize)
                self._datasets[name] = ArrayImageDataset(images, split.labels, transform)
        return bad

    def sample_train_images(self, n: int) -> torch.Tensor:
        """Up to ``n`` training images (seeded choice, no augmentation) as uint8 N x S x S x 3 on the CPU."""
        self._load()
        generator = torch.Generator().manual_seed(self.config.seed)
        if self.mode == "memory":
            images = self._memory["train"][0]
            return images[torch.randperm(len(images), generator=generator)[:n]]
        if "train" in self._shards:
            # The first samples of the shuffled shards are already a seeded random choice.
            shard_images = read_shard_images(
                self._shards["train"], self.config.image_size, n, self.config.resize
            )
            return torch.from_numpy(shard_images[0])
        dataset = self._datasets["train"]
        size = self.config.image_size
        if len(dataset) == 0:
            return torch.empty((0, size, size, 3), dtype=torch.uint8)
        chosen = torch.randperm(len(dataset), generator=generator)[:n].tolist()
        return torch.stack([torch.from_numpy(np.asarray(dataset.sample(i)[0])) for i in chosen])

    def split_size(self, split: str) -> int:
        """Number of images in ``split`` (0 when the source has none, e.g. val_fraction 0)."""
        self._load()
        return len(self._memory[split][1]) if self.mode == "memory" else self._sizes[split]

    @property
    def has_val(self) -> bool:
        return self.split_size("val") > 0

    @property
    def has_test(self) -> bool:
        return self.split_size("test") > 0

    @property
    def batch_size(self) -> int:
        """The training batch size; settable, for Lightning's batch-size finder."""
        return self.config.batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self.config = dataclasses.replace(self.config, batch_size=int(value))

    def _epoch(self) -> int:
        return self.trainer.current_epoch

    def _memory_loader(self, split: str, train: bool) -> InMemoryLoader:
        images, labels = self._memory[split]
        trainer = self.trainer
        config = self.config
        loader = InMemoryLoader(
            images,
            labels,
            config.batch_size if train else config.eval_batch_size,
            train=train,
            augment=config.augment if train else None,
            seed=config.seed,
            rank=trainer.global_rank if trainer is not None else 0,
            world_size=trainer.world_size if trainer is not None else 1,
            epoch_fn=self._epoch if train and trainer is not None else None,
        )
        return loader.to(trainer.strategy.root_device if trainer is not None else "cpu")

    def _loader(self, split: str, train: bool) -> InMemoryLoader | DataLoader:
        self._load()
        if self.mode == "memory":
            return self._memory_loader(split, train)
        config = self.config
        if split in self._shards:
            trainer = self.trainer
            return shard_loader(
                self._shards[split],
                config,
                train_transform(config.augment, config.image_size) if train else None,
                train=train,
                rank=trainer.global_rank if trainer is not None else 0,
                world_size=trainer.world_size if trainer is not None else 1,
                epoch=trainer.current_epoch if trainer is not None else 0,
            )
        batch_size = config.batch_size if train else config.eval_batch_size
        return stream_loader(
            self._datasets[split], batch_size, train=train, num_workers=config.num_workers, seed=config.seed
        )

    def train_dataloader(self) -> InMemoryLoader | DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> InMemoryLoader | DataLoader | list:
        # An empty list tells Lightning there is no validation (val_fraction 0), without a warning.
        return self._loader("val", train=False) if self.has_val else []

    def test_dataloader(self) -> InMemoryLoader | DataLoader:
        return self._loader(self.final_split, train=False)
