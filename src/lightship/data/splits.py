"""Seeded, stratified splitting of labelled samples into train/val/test index sets."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Split sample indices per class: each named split gets ``round(fraction * class size)`` samples.

    The remainder goes to ``"train"``. Written here instead of using scikit-learn's ``train_test_split``
    because that raises on classes with one or two samples, which small user folders often have; here a
    tiny class simply keeps all its samples in train. The result depends only on ``labels`` and ``seed``.
    Returned indices are sorted, so splits keep the source order.
    """
    if sum(fractions.values()) >= 1.0:
        raise ValueError(f"split fractions {fractions} leave nothing for training")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ["train", *fractions]}
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        start = 0
        for name, fraction in fractions.items():
            count = min(round(fraction * len(members)), len(members) - start - 1)
            count = max(count, 0)
            parts[name].append(members[start : start + count])
            start += count
        parts["train"].append(members[start:])
    return {name: np.sort(np.concatenate(chunks)).astype(np.int64) for name, chunks in parts.items()}
