"""Images for int8 calibration and for verification, and the sample set kept inside every bundle.

The honest source is the user's data (``--data.*``): calibration from its train split, verification
from its test split, with labels. Without data there is nothing real to measure accuracy on, so lightship
generates smooth random images (low-frequency colour fields plus noise, seeded, unlabelled): enough to
prove every artifact computes the same function as the eager model, never a claim about accuracy.
A copy of the verification images (at most ``keep``) is stored as ``samples.npz`` so ``lightship
verify BUNDLE`` can re-check a bundle anywhere without the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lightship.data.config import DataConfig
from lightship.data.prepare import load_split
from lightship.files import save_arrays
from lightship.models import resize_to

SAMPLES_NAME = "samples.npz"


@dataclass
class ImageSet:
    """uint8 ``N x H x W x 3`` images, optional int64 labels, and a description of where they came from."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    def head(self, n: int) -> ImageSet:
        labels = None if self.labels is None else self.labels[:n]
        return ImageSet(self.images[:n], labels, self.source)


def synthetic_images(n: int, size: int, seed: int = 0) -> ImageSet:
    """Smooth random colour fields with mild noise: deterministic, unlabelled."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=generator) * 255.0
    fields = resize_to(coarse, size) + torch.randn(n, 3, size, size, generator=generator) * 12.0
    images = fields.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    return ImageSet(images, None, f"synthetic (seed {seed}, unlabelled)")


def data_images(config: DataConfig, split: str, n: int) -> ImageSet:
    """The first ``n`` images of ``split`` from the user's data (via lightship.data)."""
    labelled = load_split(config, split)
    images = labelled.images[:n].numpy()
    labels = labelled.labels[:n].numpy().astype(np.int64)
    where = config.root or config.source
    return ImageSet(images, labels, f"{config.source}:{where} {split} split")


def select_images(config: DataConfig | None, split: str, n: int, size: int, seed: int) -> ImageSet:
    """``n`` images of the user's ``split`` when there is data, else seeded synthetic ones."""
    return synthetic_images(n, size, seed) if config is None else data_images(config, split, n)


def save_samples(images: ImageSet, path: Path) -> None:
    """``images`` as ``samples.npz``: "images", "source" and "labels" when known."""
    arrays = {"images": images.images, "source": np.array(images.source)}
    if images.labels is not None:
        arrays["labels"] = images.labels
    save_arrays(path, **arrays)


def load_samples(path: Path) -> ImageSet:
    """The image set stored by :func:`save_samples` (no pickles: ``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as data:
        labels = data["labels"] if "labels" in data.files else None
        return ImageSet(data["images"], labels, f"bundle samples: {data['source'].item()}")
