"""Helpers of the export tests (the trained, exported digits bundle is tests/conftest.py's ``digits_bundle``)."""

from __future__ import annotations

from lightship.models import ModelMeta


def make_meta(model: str = "airbench", image_size: int = 32) -> ModelMeta:
    """An untrained model description: for what does not depend on answers (files, errors, other nets)."""
    return ModelMeta(
        model, 10, [f"class{i}" for i in range(10)], image_size, [0.5, 0.4, 0.3], [0.25, 0.2, 0.3]
    )
