"""Images in, uint8 NHWC batches out: sources, decode cache, batched augmentation, loaders, data module.

``ImageDataModule`` is imported lazily: export, verification and serving use ``load_split`` and the
configs without paying for importing Lightning.
"""

from __future__ import annotations

from typing import Any

from lightship.data.config import AugmentConfig, DataConfig
from lightship.data.loaders import InMemoryLoader
from lightship.data.prepare import LabeledImages, load_split
from lightship.data.types import BadFile

__all__ = [
    "AugmentConfig",
    "BadFile",
    "DataConfig",
    "ImageDataModule",
    "InMemoryLoader",
    "LabeledImages",
    "load_split",
]


def __getattr__(name: str) -> Any:
    if name == "ImageDataModule":
        from lightship.data.module import ImageDataModule

        return ImageDataModule
    raise AttributeError(f"module 'lightship.data' has no attribute {name!r}")
