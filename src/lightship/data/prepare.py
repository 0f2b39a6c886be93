"""Splits in memory without Lightning (``load_split``), and the steps ``ImageDataModule`` shares with it.

Both go through the same steps: open the source (its row in :mod:`lightship.data.sources`), bring every image to ``image_size`` with the one
decoding and resize policy (file sources through the disk cache), report or refuse bad files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from lightship.data.cache import load_or_decode
from lightship.data.config import DataConfig
from lightship.data.decode import Decoded, resize_images
from lightship.data.detect import resolve_source
from lightship.data.sources import SOURCES
from lightship.data.types import SPLITS, ArraySplit, BadFile, ShardSplit, SourceData, Split
from lightship.errors import DataError
from lightship.images import decode_image
from lightship.models.classifier import RESIZE_MODES

#: Bad files named in the console warning; the full list is in ``bad_files`` (and in strict's error).
SHOWN_BAD_FILES = 20


#: Where each row of a split came from: its file (file sources), its pixels at their native size (array
#: sources), or unknown (shards are decoded straight to the model's size).
Origins = list[Path] | np.ndarray | None


@dataclass
class LabeledImages:
    """One split in memory: ``images`` uint8 N x S x S x 3 (NHWC RGB), ``labels`` int64 N, and where each
    row came from (``origins``), so verification can also feed the images at their own size."""

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    bad_files: list[BadFile]
    origins: Origins = None

    def original(self, row: int) -> np.ndarray | None:
        """Row ``row`` as it was before resizing (uint8 H x W x 3), or None when that is not known."""
        if self.origins is None:
            return None
        if isinstance(self.origins, np.ndarray):
            return self.origins[row]
        return decode_image(self.origins[row])


def open_source(config: DataConfig) -> SourceData:
    """Open the configured source through its table row (no pixels are decoded for file sources)."""
    config = resolve_source(config)
    return SOURCES.load(config.source)(config)


def validate(config: DataConfig, auto_size: bool = False) -> None:
    """Reject settings that cannot work, saying which setting and what it should be. ``auto_size``: an
    image_size of 'auto' is accepted (``lightship train`` decides it from the starting weights)."""
    problems = []
    if config.image_size == "auto" and auto_size:
        pass
    elif not isinstance(config.image_size, int):
        problems.append(
            f"data.image_size is {config.image_size!r}; 'auto' is decided by `lightship train` (the pretrained "
            "weights' input size, else 64): give a number of pixels here"
        )
    elif config.image_size < 1:
        problems.append(f"data.image_size is {config.image_size}; it must be at least 1")
    if config.resize not in RESIZE_MODES:
        problems.append(f"data.resize is {config.resize!r}; choose one of {', '.join(RESIZE_MODES)}")
    if not (0 <= config.val_fraction < 1 and 0 <= config.test_fraction < 1):
        problems.append("data.val_fraction and data.test_fraction must be in [0, 1)")
    elif config.val_fraction + config.test_fraction >= 1:
        problems.append("data.val_fraction + data.test_fraction must be below 1 to leave training images")
    if config.batch_size < 1 or config.eval_batch_size < 1:
        problems.append("data.batch_size and data.eval_batch_size must be at least 1")
    if config.num_workers < 0:
        problems.append("data.num_workers must be 0 or more")
    if config.source in SOURCES and SOURCES[config.source].layout is None and (config.root or config.url):
        problems.append(
            f"data.source '{config.source}' is built in and reads no folder, but data.root/url is set; drop it "
            "or use --data.source auto to read that folder"
        )
    if config.source == "shards" and config.mode == "memory":
        problems.append("data.mode 'memory' is not available for the shards source, which is always streamed")
    if config.shuffle_buffer < 0:
        problems.append("data.shuffle_buffer must be 0 or more")
    augment = config.augment
    if augment.translate < 0 or augment.cutout < 0:
        problems.append("data.augment.translate and data.augment.cutout must be 0 or more")
    if problems:
        raise DataError("invalid data configuration: " + "; ".join(problems) + ".")


def materialize(
    split: Split, config: DataConfig, decoded_trees: dict[int, Decoded] | None = None
) -> tuple[np.ndarray, np.ndarray, list[BadFile], Origins]:
    """(uint8 N x S x S x 3, int64 labels, bad files, origins) of a split; file splits go through the cache.

    ``decoded_trees`` (keyed by ``id`` of the folder's FileSplit) lets the splits carved from one folder
    share a single cache read.
    """
    if isinstance(split, ArraySplit):
        return resize_images(split.images, config.image_size, config.resize), split.labels, [], split.images
    if isinstance(split, ShardSplit):
        from lightship.data.shard_reader import read_shard_images  # webdataset only for this source

        return (*read_shard_images(split, config.image_size, resize=config.resize), [], None)
    tree = split.tree if split.tree is not None else split
    memo = decoded_trees if decoded_trees is not None else {}
    if id(tree) not in memo:
        memo[id(tree)] = load_or_decode(
            tree, config.image_size, config.cache_dir, max(1, config.num_workers), config.resize
        )
    decoded = memo[id(tree)]
    paths = tree.paths
    if split.positions is None:
        origins = [paths[i] for i in decoded.index.tolist()]
        return decoded.images, tree.labels[decoded.index], decoded.bad_files, origins
    keep = np.isin(decoded.index, split.positions)
    bad_keep = np.isin(decoded.bad_index, split.positions)
    bad = [bad_file for bad_file, kept in zip(decoded.bad_files, bad_keep, strict=True) if kept]
    rows = decoded.index[keep]
    return decoded.images[keep], tree.labels[rows], bad, [paths[i] for i in rows.tolist()]


def check_bad_files(bad_files: list[BadFile], strict: bool) -> None:
    """With ``strict`` raise a DataError listing every bad file; otherwise print a warning and go on."""
    if not bad_files:
        return
    if strict:
        listing = "\n".join(f"  {bad}" for bad in bad_files)
        raise DataError(
            f"{len(bad_files)} image file(s) cannot be used:\n{listing}\n"
            "Fix or delete them, or set --data.strict false to skip them."
        )
    console = Console(stderr=True)
    console.print(f"[bold yellow]warning:[/] skipping {len(bad_files)} bad image file(s):", highlight=False)
    for bad in bad_files[:SHOWN_BAD_FILES]:
        console.print(f"  {bad}", highlight=False, markup=False, soft_wrap=True)
    if len(bad_files) > SHOWN_BAD_FILES:
        console.print(f"  ... and {len(bad_files) - SHOWN_BAD_FILES} more", highlight=False)


def load_split(config: DataConfig, split: str) -> LabeledImages:
    """One split in memory, without Lightning (export, verification, evaluation)."""
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}': use one of {', '.join(SPLITS)}.")
    config = resolve_source(config)
    validate(config)
    source = open_source(config)
    images, labels, bad, origins = materialize(source.splits[split], config)
    check_bad_files(bad, config.strict)
    return LabeledImages(torch.from_numpy(images), torch.from_numpy(labels), source.class_names, bad, origins)


def mean_std(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std in 0..1 of uint8 NHWC images, exact, from a 256-bin histogram per channel
    (one pass over the bytes, no float copy of the dataset)."""
    values = torch.arange(256, dtype=torch.float64) / 255.0
    mean, std = [], []
    for channel in range(3):
        hist = torch.bincount(images[..., channel].reshape(-1), minlength=256).to("cpu", torch.float64)
        count = max(float(hist.sum()), 1.0)
        m = float((hist * values).sum()) / count
        var = float((hist * values * values).sum()) / count - m * m
        mean.append(m)
        std.append(max(var, 1e-12) ** 0.5)
    return tuple(mean), tuple(std)
