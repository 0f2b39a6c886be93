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


def flip_byte(path: Path) -> None:
    """Change one bit in the middle of ``path``, as corruption or tampering would."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def export_broken(run: Path, out: Path, formats: list[str] | None, mutate=None, exporter_of=None) -> tuple:
    """``lightship export RUN`` (the CLI's function) with exporters broken the way a buggy exporter would be:
    each exports a copy of the inference wrapper changed by ``mutate(wrapper)``, or (``exporter_of(name)``)
    another format's exporter writes the file. The reference model and the data stay right, so the gates
    see an artifact that is not the trained model's function. Returns (exit code, printed output, bundle)."""
    import contextlib
    import copy
    import dataclasses
    import io

    from lightship.export.commands import export_command
    from lightship.export.formats import FORMATS

    real = FORMATS.load

    def load(name: str):
        exporter = real(exporter_of(name) if exporter_of else name)
        if mutate is None:
            return exporter

        def broken(ctx, path):
            wrapper = copy.deepcopy(ctx.wrapper)
            mutate(wrapper)
            return exporter(dataclasses.replace(ctx, wrapper=wrapper, shared={}), path)

        return broken

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(FORMATS, "load", load)
        patch.setenv("COLUMNS", "250")
        code = export_command(
            run, out=out, formats=None if formats is None else ",".join(formats), n=100, calibration_size=64
        )
    return code, printed.getvalue(), out


def shift_mean(wrapper) -> None:
    """One level (1/255) off in the red channel's mean: a normalisation unlike training's."""
    import torch

    with torch.no_grad():
        wrapper.classifier.preprocess.mean[0, 0] += 1.0


@pytest.fixture(scope="session")
def shifted_mean_bundle(digits_run: Path) -> tuple:
    """Every fp32 format exported with the red channel's mean one level off (named formats: they stay)."""
    return export_broken(
        digits_run, digits_run.parent / "broken-mean", ["onnx", "openvino", "torchscript"], shift_mean
    )
