"""The in-memory fast path: batches are slices of one uint8 tensor that already lives on the device.

Written instead of a ``torch.utils.data.DataLoader`` because that collates one sample at a time in
Python (and its augmentation would run per image, ~100x slower than :class:`BatchAugment`); with the
whole dataset on the training device a batch is one ``index_select`` and no worker processes are needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

from lightship.data.augment import BatchAugment
from lightship.data.config import AugmentConfig


class InMemoryLoader:
    """Yields ``(uint8 N x H x W x 3, int64 N)`` batches from tensors held in memory.

    Training (``train=True``): a permutation seeded by (seed, epoch), the same on every rank, of which
    each rank takes a disjoint slice of equal length, so every rank runs the same number of steps; the
    last, partial batch is kept unless it would hold a single image (see :func:`train_batch_count`);
    augmentation on the tensors' device. Evaluation: in order, no augmentation, the last partial batch
    kept; with several ranks the order is padded by wrapping around (like ``DistributedSampler``) so
    every rank gets the same number of batches.

    The epoch comes from ``epoch_fn`` when given (the data module passes the trainer's current epoch,
    so a resumed run continues the same schedule), else from ``set_epoch`` or an internal counter that
    advances at every iteration.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        train: bool,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        epoch_fn: Callable[[], int] | None = None,
    ) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world size {world_size}")
        self.images = images
        self.labels = labels
        self.batch_size = batch_size
        self.train = train
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch_fn = epoch_fn
        self.epoch = 0
        self.augment = BatchAugment(augment, len(labels), seed) if train and augment is not None else None

    def to(self, device: torch.device | str) -> InMemoryLoader:
        """Move the images and labels to ``device`` (augmentation then runs there too)."""
        self.images = self.images.to(device)
        self.labels = self.labels.to(device)
        return self

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next iteration (permutation, augmentation and alternating flips)."""
        self.epoch = epoch

    def _per_rank(self) -> int:
        n = len(self.labels)
        return n // self.world_size if self.train else math.ceil(n / self.world_size)

    def __len__(self) -> int:
        if self.train:
            return train_batch_count(self._per_rank(), self.batch_size)
        return math.ceil(self._per_rank() / self.batch_size)

    def _used(self) -> int:
        """Training samples this rank uses per epoch: all of its share but a lone last one."""
        per_rank = self._per_rank()
        return per_rank - 1 if per_rank % self.batch_size == 1 and self.batch_size > 1 else per_rank

    def _indices(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices for ``epoch`` (CPU int64)."""
        n, per_rank = len(self.labels), self._per_rank()
        if self.train:
            generator = torch.Generator().manual_seed(mix_seeds(self.seed, epoch))
            order = torch.randperm(n, generator=generator)
            return order[self.rank * per_rank : self.rank * per_rank + self._used()]
        order = torch.arange(per_rank * self.world_size) % max(n, 1)
        return order[self.rank * per_rank : (self.rank + 1) * per_rank]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch = self.epoch_fn() if self.epoch_fn is not None else self.epoch
        self.epoch = epoch + 1
        indices = self._indices(epoch)
        # Augmentation randomness differs per rank and epoch, and is independent of the permutation.
        generator = torch.Generator().manual_seed(mix_seeds(self.seed, epoch, self.rank + 1))
        device = self.images.device
        for start in range(0, len(indices), self.batch_size):
            batch = indices[start : start + self.batch_size]
            on_device = batch.to(device)
            images = self.images.index_select(0, on_device)
            if self.augment is not None:
                images = self.augment(images, batch, epoch, generator)
            yield images, self.labels.index_select(0, on_device)


def train_batch_count(samples: int, batch_size: int) -> int:
    """Training batches of ``samples`` images: the full ones, plus the partial last one unless it would hold a
    single image (BatchNorm cannot normalise a batch of one; the image is seen in another epoch's order)."""
    full, rest = divmod(samples, batch_size)
    return full + (1 if rest > 1 else 0)


def mix_seeds(*values: int) -> int:
    """A 63-bit seed from several integers (so nearby (seed, epoch) pairs give unrelated streams)."""
    result = 0x9E3779B97F4A7C15
    for value in values:
        result = (result ^ (value & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        result ^= result >> 31
    return result & 0x7FFFFFFFFFFFFFFF
