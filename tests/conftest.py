"""Shared fixtures. Tests make their own small data; nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep the two cores of the CI machine for the test processes themselves.
os.environ.setdefault("OMP_NUM_THREADS", "2")


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
    """``lightship export RUN`` of digits_run into every format of the table, calibrated and verified on the
    run's own data (digits' train and test splits, so int8 is gated on accuracy)."""
    from lightship.export.commands import export_command
    from lightship.export.formats import FORMATS

    out = digits_run.parent / "bundle"
    assert export_command(digits_run, out=out, formats=",".join(FORMATS), n=360, calibration_size=128) == 0
    return out
