"""The stream path, for data that does not fit in memory: DataLoader workers decode every epoch.

Augmentation here is torchvision transforms v2 on uint8 tensors, one image at a time (slow, but it runs
in worker processes in parallel with training). ``flip='alternating'`` needs the epoch and the sample
index, which a per-sample transform does not see, so it degrades to a random 50 % flip on this path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler
from torchvision.transforms import v2

from lightship.data.config import AugmentConfig
from lightship.data.decode import decode_to_size
from lightship.data.loaders import train_batch_count
from lightship.data.types import FileSplit
from lightship.errors import DataError
from lightship.images import ImageDecodeError

log = logging.getLogger(__name__)


def train_transform(config: AugmentConfig, image_size: int) -> v2.Compose:
    """v2 equivalent of :class:`~lightship.data.augment.BatchAugment` for one uint8 C x H x W image."""
    steps: list[v2.Transform] = []
    if config.translate > 0:
        steps.append(v2.RandomCrop(image_size, padding=config.translate, padding_mode="reflect"))
    if config.flip != "none":
        steps.append(v2.RandomHorizontalFlip(0.5))
    if config.cutout > 0:
        side = min(config.cutout, image_size)
        area = side * side / (image_size * image_size)
        # scale and ratio fixed so the erased rectangle is exactly side x side, as in BatchAugment.
        steps.append(v2.RandomErasing(p=1.0, scale=(area, area), ratio=(1.0, 1.0), value=0))
    return v2.Compose(steps or [v2.Identity()])  # Compose refuses an empty list (all augmentation off)


class _ImageDataset(Dataset):
    """Returns ``(uint8 H x W x 3 tensor, int label)``; subclasses say how to get one sample at size."""

    def __init__(self, labels: np.ndarray, transform: v2.Compose | None) -> None:
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, index: int) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        pixels, label = self.sample(index)
        tensor = torch.from_numpy(pixels)
        if self.transform is not None:
            tensor = self.transform(tensor.permute(2, 0, 1)).permute(1, 2, 0).contiguous()
        return tensor, label


class ArrayImageDataset(_ImageDataset):
    """Images already decoded at size (digits, CIFAR-10 pickles) served through the stream path."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: v2.Compose | None = None) -> None:
        super().__init__(labels, transform)
        self.images = images

    def sample(self, index: int) -> tuple[np.ndarray, int]:
        return self.images[index], int(self.labels[index])


class FileImageDataset(_ImageDataset):
    """Decodes each file with the one decoding and resize policy at every access.

    A file that turns out bad at run time is logged once (per worker) and replaced by the next good
    sample, so an epoch never crashes on it (``strict`` finds such files before training instead).
    """

    def __init__(
        self, split: FileSplit, image_size: int, transform: v2.Compose | None = None, resize: str = "squash"
    ) -> None:
        super().__init__(split.labels, transform)
        self.paths = [str(p) for p in split.paths]
        self.image_size = image_size
        self.resize = resize
        self._reported: set[int] = set()

    def sample(self, index: int) -> tuple[np.ndarray, int]:
        for step in range(len(self.paths)):
            candidate = (index + step) % len(self.paths)
            try:
                pixels = decode_to_size(self.paths[candidate], self.image_size, self.resize)
                return pixels, int(self.labels[candidate])
            except ImageDecodeError as exc:
                if candidate not in self._reported:
                    self._reported.add(candidate)
                    log.warning("skipping bad image %s: %s", exc.source, exc.reason)
        raise DataError(
            f"none of the {len(self.paths)} images of this split can be decoded; check the files."
        )


class TrainBatches(BatchSampler):
    """Batches of a training epoch: the partial last one is kept unless it would hold a single image
    (BatchNorm cannot normalise a batch of one), as in the in-memory loader (``train_batch_count``).

    Same constructor as ``BatchSampler``, so Lightning can rebuild it around a DistributedSampler under DDP.
    """

    def __iter__(self) -> Iterator[list[int]]:
        for batch in super().__iter__():
            if len(batch) > 1 or self.batch_size == 1:
                yield batch

    def __len__(self) -> int:
        return train_batch_count(len(self.sampler), self.batch_size)


def stream_loader(
    dataset: Dataset, batch_size: int, *, train: bool, num_workers: int, seed: int
) -> DataLoader:
    """A spawn-safe DataLoader (module-level classes only); Lightning adds a DistributedSampler under DDP."""
    common = {"num_workers": num_workers, "persistent_workers": num_workers > 0}
    if not train:
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, **common)
    sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_sampler=TrainBatches(sampler, batch_size, drop_last=False), **common)
