"""Shared fixtures. Tests make their own small data; nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

# Keep the two cores of the CI machine for the test processes themselves.
os.environ.setdefault("OMP_NUM_THREADS", "2")

#: Set by `make test` (and so CI): a format whose optional dependency is missing FAILS its tests instead of
#: being skipped with the pip command, so an extra that did not install cannot pass unnoticed.
REQUIRE_EXTRAS = "LIGHTSHIP_REQUIRE_EXTRAS"
#: Largest input of the formats that plan memory for one, in the shared bundle: small, so LiteRT's static
#: canvas (one image per call, resized as a dense product over the whole canvas) stays cheap.
DIGITS_MAX_INPUT = 128


def require_format(bundle: Path, name: str) -> dict:
    """The manifest entry of ``name`` in ``bundle``; when ``--formats all`` skipped it (its optional
    dependency is missing): a skip naming the pip command, or a failure under LIGHTSHIP_REQUIRE_EXTRAS."""
    from lightship.bundle.manifest import read_manifest

    manifest = read_manifest(bundle)
    for artifact in manifest["artifacts"]:
        if artifact["format"] == name:
            return artifact
    reason = next(s["reason"] for s in manifest["skipped_formats"] if s["format"] == name)
    if os.environ.get(REQUIRE_EXTRAS):
        pytest.fail(f"{name} was not exported and {REQUIRE_EXTRAS} is set: {reason}", pytrace=False)
    pytest.skip(f"{name} not exported: {reason}")


def odd_images() -> list:
    """Digits 0-9 upscaled to sizes the model was not trained on, plus gray, RGBA and extreme shapes."""
    digits = load_digits()
    images: list = []
    for label, size in zip(range(10), [(37, 23), (9, 61), (5, 5), (120, 80), (33, 33)] * 2, strict=True):
        pixels = (digits.images[list(digits.target).index(label)] * (255 / 16)).astype(np.uint8)
        images.append(Image.fromarray(pixels, mode="L").resize(size, Image.Resampling.BILINEAR))
    rng = np.random.default_rng(1)
    images += [
        Image.fromarray(rng.integers(0, 256, (20, 50, 4), dtype=np.uint8), mode="RGBA"),
        rng.integers(0, 256, (1, 1, 3), dtype=np.uint8),
        rng.integers(0, 256, (20, 3000, 3), dtype=np.uint8),
    ]
    return images


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder: a small airbench trained 3 epochs on scikit-learn's digits (about 97% test accuracy),
    so its answers depend on its input. Shared by the conformance tests of formats and runtimes."""
    from lightship.data.config import AugmentConfig, DataConfig
    from lightship.training import ModelConfig, OptimConfig, TrainConfig, train

    config = TrainConfig(
        data=DataConfig(source="digits", batch_size=64, augment=AugmentConfig(flip="none")),
        model=ModelConfig(name="airbench", kwargs={"widths": [16, 32, 32], "bn_eps": 1e-5}),
        optim=OptimConfig(
            lr=0.2, norm_lr_scale=4.0, label_smoothing=0.1, warmup_fraction=0.2, final_factor=0.05
        ),
        trainer={"max_epochs": 3, "enable_progress_bar": False, "enable_model_summary": False},
        out=tmp_path_factory.mktemp("digits") / "run",
    )
    result = train(config)
    assert result.summary["test_acc"] > 0.9, result.summary
    return result.run_dir


@pytest.fixture(scope="session")
def digits_bundle(digits_run: Path) -> Path:
    """``lightship export RUN --formats all`` of digits_run: every format of the table whose optional
    dependency is installed (see :func:`require_format`), calibrated and verified on the run's own data
    (digits' train and test splits, so int8 is gated on accuracy). Made ONCE per test run: pt2 compiles C++
    for minutes on two cores."""
    from lightship.export.commands import export_command

    out = digits_run.parent / "bundle"
    assert (
        export_command(
            digits_run, out=out, formats="all", n=360, calibration_size=128, max_input=DIGITS_MAX_INPUT
        )
        == 0
    )
    return out
