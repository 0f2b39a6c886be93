"""The split contract every data source fulfils: class names and, per split, files, arrays or shards.

Sources only find and label images; decoding to the model's size is :mod:`lightship.data.decode`'s job
and keeping the result is :mod:`lightship.data.cache`'s, so every source shares one pixel policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class BadFile:
    """An image that could not be used: where it is and why (skipped, or listed by ``strict``)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class FileSplit:
    """Images still on disk. ``files`` holds (path relative to ``root``, size, mtime_ns): the cache key.

    A split carved from a folder (val taken from train/) remembers that whole folder as ``tree`` and its
    own ``positions`` in it, so the folder is decoded and cached once, not once per split.
    """

    root: Path
    files: list[tuple[str, int, int]]
    labels: np.ndarray
    tree: FileSplit | None = None
    positions: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def paths(self) -> list[Path]:
        return [self.root / rel for rel, _, _ in self.files]

    def subset(self, indices: np.ndarray) -> FileSplit:
        tree = self.tree if self.tree is not None else self
        positions = self.positions[indices] if self.positions is not None else indices
        return FileSplit(self.root, [self.files[i] for i in indices], self.labels[indices], tree, positions)


@dataclass
class ArraySplit:
    """Images already in memory as ``uint8`` N x H x W x 3 at the source's native size."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> ArraySplit:
        return ArraySplit(self.images[indices], self.labels[indices])


@dataclass
class ShardSplit:
    """Images in WebDataset shards (written by :mod:`lightship.data.shard_writer`): one location and sample count per shard.

    Locations are whatever webdataset opens: local paths, http(s) URLs or ``pipe:`` commands.
    """

    urls: list[str]
    counts: list[int]

    def __len__(self) -> int:
        return sum(self.counts)


Split = FileSplit | ArraySplit | ShardSplit


@dataclass
class SourceData:
    """A source, opened: ``splits`` has exactly the keys train, val and test (possibly empty)."""

    class_names: list[str]
    splits: dict[str, Split]
