"""scikit-learn's bundled handwritten digits: 1,797 8x8 gray images, offline, for smoke tests and demos."""

from __future__ import annotations

import numpy as np

from lightship.data.config import DataConfig
from lightship.data.splits import stratified_split
from lightship.data.types import ArraySplit, SourceData


def open_digits(config: DataConfig) -> SourceData:
    """Digits as RGB uint8 (values 0..16 scaled to 0..255), split by the configured fractions."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    gray = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    images = np.repeat(gray[..., None], 3, axis=3)
    labels = bunch.target.astype(np.int64)
    everything = ArraySplit(images, labels)
    parts = stratified_split(labels, {"val": config.val_fraction, "test": config.test_fraction}, config.seed)
    return SourceData(
        class_names=[str(d) for d in range(10)],
        splits={name: everything.subset(idx) for name, idx in parts.items()},
    )
