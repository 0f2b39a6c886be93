"""Real short trainings on scikit-learn's bundled digits (no network, a few seconds each)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from lightship.cli import main
from lightship.data import load_split
from lightship.data.config import AugmentConfig, DataConfig
from lightship.data.loaders import train_batch_count
from lightship.errors import CheckpointError
from lightship.training import ModelConfig, OptimConfig, TrainConfig, load_classifier, train

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "configs" / "digits.yaml"


def digits_config(out: Path, epochs: int, cache: Path) -> TrainConfig:
    return TrainConfig(
        data=DataConfig(source="digits", batch_size=64, cache_dir=cache, augment=AugmentConfig(flip="none")),
        model=ModelConfig(name="airbench", kwargs={"widths": [32, 64, 64], "bn_eps": 1e-5}),
        optim=OptimConfig(
            lr=0.2,
            momentum=0.9,
            norm_lr_scale=4.0,
            label_smoothing=0.1,
            warmup_fraction=0.2,
            final_factor=0.05,
        ),
        trainer={"max_epochs": epochs, "enable_progress_bar": False, "enable_model_summary": False},
        out=out,
    )


def test_short_training_on_digits_reaches_90_percent_and_writes_the_run_folder(tmp_path: Path) -> None:
    result = train(digits_config(tmp_path / "run", epochs=6, cache=tmp_path / "cache"))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["test_acc"] >= 0.90
    for key in (
        "val_acc",
        "epochs",
        "global_step",
        "train_seconds",
        "wall_seconds",
        "train_images_per_second",
        "model",
        "num_classes",
        "class_names",
    ):
        assert summary[key] is not None, key
    assert summary["epochs"] == 6 and summary["class_names"] == [str(i) for i in range(10)]
    for name in ("config.yaml", "metrics.csv", "checkpoints/best.ckpt", "checkpoints/last.ckpt"):
        assert (result.run_dir / name).is_file(), name
    assert not list((result.run_dir / "checkpoints").glob("*.tmp"))

    # The checkpoint alone rebuilds the model, which scores the same on the test split.
    model, meta = load_classifier(result.run_dir)
    test = load_split(DataConfig(source="digits", cache_dir=tmp_path / "cache"), "test")
    with torch.no_grad():
        acc = (model(test.images).argmax(1) == test.labels).float().mean().item()
    assert meta.model == "airbench" and abs(acc - summary["test_acc"]) < 0.02


def test_muon_recipe_trains_through_lightning_and_a_mid_epoch_stop_counts_half_epochs(tmp_path: Path) -> None:
    """The CIFAR recipe's optimiser (Muon for filters, SGD for the rest) and its ``max_steps`` stop."""
    cfg = digits_config(tmp_path / "run", epochs=10, cache=tmp_path / "cache")
    cfg.optim = OptimConfig(
        optimizer="muon", muon_lr=0.1, lr=0.2, norm_lr_scale=4.0, label_smoothing=0.1, final_factor=0.0
    )
    train_images = len(load_split(DataConfig(source="digits", cache_dir=tmp_path / "cache"), "train").labels)
    steps_per_epoch = train_batch_count(train_images, 64)
    cfg.trainer["max_steps"] = steps_per_epoch * 6 + steps_per_epoch // 2
    summary = train(cfg).summary
    assert summary["global_step"] == cfg.trainer["max_steps"]
    assert (
        summary["epochs"] == round(cfg.trainer["max_steps"] / steps_per_epoch, 2)
        and 6 < summary["epochs"] < 7
    )
    assert summary["test_acc"] >= 0.90


def test_resume_continues_to_the_same_global_step(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    whole = train(digits_config(tmp_path / "whole", epochs=3, cache=cache)).summary
    train(digits_config(tmp_path / "part", epochs=1, cache=cache))
    cfg = digits_config(tmp_path / "part", epochs=3, cache=cache)
    resumed = train(cfg, resume=tmp_path / "part").summary
    assert resumed["global_step"] == whole["global_step"] > 0
    assert resumed["epochs"] == 3
    # metrics.csv keeps the first run's epoch and gains the resumed ones
    import csv

    with open(tmp_path / "part" / "metrics.csv") as f:
        epochs = {row["epoch"] for row in csv.DictReader(f) if row.get("val/acc")}
    assert epochs == {"0", "1", "2"}


class _StopAfterFirstEpoch(L.Callback):
    """An interruption after the first epoch's checkpoint, with the schedule of the whole run."""

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.should_stop = trainer.current_epoch == 0


def test_interrupted_muon_run_resumes_to_bit_identical_weights(tmp_path: Path) -> None:
    """Optimiser (Muon and SGD momentum), schedule, data order and augmentation all continue exactly."""

    def config(out: str) -> TrainConfig:
        cfg = digits_config(tmp_path / out, epochs=3, cache=tmp_path / "cache")
        cfg.optim = OptimConfig(optimizer="muon", muon_lr=0.1, lr=0.2, norm_lr_scale=4.0, final_factor=0.0)
        return cfg

    train(config("whole"))
    train(config("part"), callbacks=[_StopAfterFirstEpoch()])
    train(config("part"), resume=tmp_path / "part")
    whole, resumed = (
        torch.load(tmp_path / run / "checkpoints" / "last.ckpt", weights_only=True)
        for run in ("whole", "part")
    )
    assert resumed["global_step"] == whole["global_step"] > 0
    for name, tensor in whole["state_dict"].items():
        assert torch.equal(tensor, resumed["state_dict"][name]), name


def test_resume_with_another_model_is_refused_naming_both(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    train(digits_config(tmp_path / "run", epochs=1, cache=cache))
    other = digits_config(tmp_path / "run", epochs=2, cache=cache)
    other.model = ModelConfig(name="resnet18_cifar")
    with pytest.raises(CheckpointError, match=r"'airbench'.*'resnet18_cifar'"):
        train(other, resume=tmp_path / "run")


def test_sigkill_mid_run_then_resume_finishes_with_the_same_global_step(tmp_path: Path) -> None:
    """A real process killed with SIGKILL after its first checkpoint; `--resume` completes the run."""
    run = tmp_path / "run"
    env = {**os.environ, "LIGHTSHIP_CACHE": str(tmp_path / "cache")}
    args = [
        sys.executable,
        "-m",
        "lightship.cli",
        "train",
        "--config",
        str(DIGITS),
        "--out",
        str(run),
        "--trainer.max_epochs",
        "12",
        "--trainer.enable_progress_bar",
        "false",
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = run / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 240
    while not last.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)  # let it get into the next epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training finished before it could be killed"
    assert not (run / "summary.json").exists()
    torch.load(last, weights_only=True)  # the checkpoint left behind is whole

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lightship.cli",
            "train",
            "--resume",
            str(run),
            "--trainer.enable_progress_bar",
            "false",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    steps_per_epoch = summary["global_step"] // 12
    assert summary["epochs"] == 12 and summary["global_step"] == 12 * steps_per_epoch > 0


def test_cli_errors_exit_nonzero_and_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert (
        main(
            [
                "train",
                "--config",
                str(DIGITS),
                "--data.source",
                "imagefolder",
                "--data.root",
                str(missing),
                "--out",
                str(tmp_path / "r1"),
            ]
        )
        == 2
    )
    assert "nowhere" in capsys.readouterr().err
    assert (
        main(["train", "--config", str(DIGITS), "--model.name", "resnet81", "--out", str(tmp_path / "r2")])
        == 2
    )
    assert "Did you mean" in capsys.readouterr().err
    muon_fsdp = ["--optim.optimizer", "muon", "--trainer.strategy", "fsdp", "--out", str(tmp_path / "r3")]
    assert main(["train", "--config", str(DIGITS), *muon_fsdp]) == 2
    assert "--trainer.strategy ddp" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  sourse: digits\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "sourse" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "norun")]) == 2
    assert "config.yaml" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


class _DivergeAtEpoch(L.Callback):
    """Simulates a run that diverges: from ``epoch`` on, the learning rate is absurd."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch >= self.epoch:
            for group in trainer.optimizers[0].param_groups:
                group["lr"] = 1e30


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = digits_config(tmp_path / "run", epochs=4, cache=tmp_path / "cache")
    with pytest.raises(
        FloatingPointError,
        match=r"loss is (nan|inf) at global step \d+ \(epoch 2, batch \d+\).*The last good checkpoint is kept: .*last\.ckpt",
    ):
        train(cfg, callbacks=[_DivergeAtEpoch(2)])
    kept = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert kept["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in kept["state_dict"].values() if v.is_floating_point())
    assert not (tmp_path / "run" / "summary.json").exists()


def test_nan_loss_from_the_cli_exits_1_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            "--config",
            str(DIGITS),
            "--out",
            str(tmp_path / "run"),
            "--optim.lr",
            "1e30",
            "--data.cache_dir",
            str(tmp_path / "cache"),
            "--trainer.enable_progress_bar",
            "false",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "loss is" in err and "No checkpoint was written" in err  # it diverged in its first epoch
    assert not (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()


def test_compiled_training_keeps_plain_checkpoint_keys(tmp_path: Path) -> None:
    cfg = digits_config(tmp_path / "run", epochs=1, cache=tmp_path / "cache")
    cfg.model.compile = True
    summary = train(cfg).summary
    assert summary["test_acc"] > 0.3
    keys = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert "model.net.whiten.weight" in keys and not any("_orig_mod" in k for k in keys)
    load_classifier(tmp_path / "run")  # loads into a plain, uncompiled model
