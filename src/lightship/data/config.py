"""The typed data configuration (``--data.*`` on the command line, ``data:`` in YAML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lightship.data.sources import SourceName
from lightship.errors import DataError
from lightship.models.classifier import ResizeMode


@dataclass
class AugmentConfig:
    """Training augmentation, applied batched on the training device in the in-memory path."""

    translate: int = 2
    """Random translation by up to this many pixels (reflect padding, then a random crop). 0 = off."""
    flip: Literal["none", "random", "alternating"] = "alternating"
    """'alternating' is airbench's scheme: a fixed random half flipped on even epochs, the other on odd."""
    cutout: int = 0
    """Side in pixels of a square zeroed at a random place in each image. 0 = off."""


@dataclass
class DataConfig:
    """Where images come from and how they reach the model."""

    source: SourceName = "auto"
    """'auto' (the default): decided from --data.root and printed: no root means the built-in digits; a root
    holding the CIFAR-10 release, class folders or a shard index means cifar10, imagefolder or shards; any
    other folder is an error naming these layouts. Or a name from the data-source table
    (lightship.data.sources): 'digits': scikit-learn's bundled handwritten digits (offline). 'cifar10':
    the official python release. 'imagefolder': ROOT/train/<class>/... (+ val/, test/) or one
    ROOT/<class>/... tree. 'shards': WebDataset shards written by ``lightship data shard`` (index.json +
    tars), in a local root or at url; always streamed, for data beyond one machine's memory."""
    root: Path | None = None
    """Folder of the data: class folders, the CIFAR-10 release (cifar-10-python.tar.gz or
    cifar-10-batches-py/) or a shard folder. None: the built-in digits."""
    url: str | None = None
    """shards only, instead of root: where index.json and the shards are read, for shards not in a local
    folder. Either a prefix (https://host/shards, giving https://host/shards/train-000000.tar) or a
    template with {name} for the file name, e.g. 'pipe:aws s3 cp s3://bucket/shards/{name} -'. Any
    location webdataset opens works (http(s) through curl, pipe: commands, gs://)."""
    shuffle_buffer: int = 5000
    """shards only: samples held per data worker for shuffling across shards (more = better mixing,
    more memory). 0 = only the shard order is shuffled."""
    download: bool = False
    """cifar10 only: fetch the archive with torchvision when the network allows."""
    image_size: int | Literal["auto"] = 32
    """Side of the square the model sees; every image is resized to it by the one policy. 'auto' (for
    ``lightship train``): the pretrained weights' input size when they load, else 64."""
    resize: ResizeMode = "squash"
    """How a picture becomes that square: 'squash' resizes the whole picture (aspect ratio not kept);
    'crop' keeps the aspect ratio: resize the shorter side, then cut the centred square (the evaluation
    transform of pretrained models; the edges of wide or tall pictures are not seen). Applied identically
    by the data pipeline and inside every exported artifact."""
    mean: tuple[float, float, float] | None = None
    """Per-channel mean of pixels in 0..1; None = computed from the training images."""
    std: tuple[float, float, float] | None = None
    """Per-channel std of pixels in 0..1; None = computed from the training images."""
    val_fraction: float = 0.1
    """Share of the training split held out for validation when the source has no val split."""
    test_fraction: float = 0.2
    """Share held out for testing when the source has no test split."""
    seed: int = 0
    """Seed of the split and of the augmentation."""
    strict: bool = False
    """Stop before training, listing every bad file, instead of skipping them with a warning."""
    mode: Literal["auto", "memory", "stream"] = "auto"
    """'memory': decode once into a uint8 cache and augment batched on device. 'stream': DataLoader
    workers decode every epoch. 'auto': memory when the decoded images fit in memory_limit_gb.
    The shards source is always streamed ('memory' is refused)."""
    memory_limit_gb: float = 4.0
    """Largest decoded dataset 'auto' keeps in memory."""
    cache_dir: Path | None = None
    """Where decoded caches live; None = $LIGHTSHIP_CACHE or ~/.cache/lightship."""
    batch_size: int = 512
    """Training images per step (per process under DDP)."""
    eval_batch_size: int = 1024
    """Images per step when validating and testing."""
    num_workers: int = 2
    """DataLoader workers of the stream path (decode/cache building uses them too)."""
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def root_folder(self, what: str) -> Path:
        """The configured root as a folder, or a DataError saying what was expected there."""
        if self.root is None:
            raise DataError(f"data source '{self.source}' needs a root folder: set --data.root to {what}.")
        root = Path(self.root).expanduser()
        if not root.is_dir():
            raise DataError(f"data root {root} does not exist or is not a folder; it should hold {what}.")
        return root
