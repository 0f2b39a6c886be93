"""A folder of one's own photos, as small as it gets, trains with configs/imagefolder.yaml and its defaults,
makes optimiser steps, exports and verifies; a run that cannot learn says why instead of pretending.

Every test runs with the network blocked (``no_network``): the config asks for pretrained weights with
``auto``, so these runs also prove the offline fallback (a warning, then training from scratch at 64 px).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lightship.cli import main

REPO = Path(__file__).resolve().parents[2]
IMAGEFOLDER = REPO / "configs" / "imagefolder.yaml"
PhotoFolder = Callable[..., Path]
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def train_cli(root: Path, out: Path, cache: Path, *extra: str) -> int:
    paths = ["--data.root", str(root), "--data.cache_dir", str(cache), "--out", str(out)]
    return main(["train", "--config", str(IMAGEFOLDER), *paths, *QUIET, *extra])


@pytest.mark.usefixtures("no_network")
def test_twenty_photos_a_class_with_corrupt_files_train_with_the_defaults_export_and_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], photo_folder: PhotoFolder
) -> None:
    root = photo_folder(tmp_path / "photos", per_class=20, corrupt=2)
    assert train_cli(root, tmp_path / "run", tmp_path / "cache") == 0
    err = capsys.readouterr().err
    assert "pretrained weights of resnet18" in err and "Training from scratch" in err  # the loud fallback
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["global_step"] > 0 and summary["image_size"] == 64
    assert len(summary["skipped_files"]) == 4
    assert summary["pretrained"] is None and summary["start"].startswith(
        "trained from scratch: pretrained weights"
    )
    assert summary["final"]["split"] == "test" and summary["final"]["images"] == 8
    assert summary["test_acc"] >= 0.75, summary  # a red disc from a blue bar: learnt, not guessed
    for path in summary["checkpoints"].values():
        assert Path(path).is_file()
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "bundle")]) == 0
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["verification"]["passed"] is True


@pytest.mark.parametrize("mode", ["memory", "stream"])
@pytest.mark.usefixtures("no_network")
def test_three_photos_a_class_train_with_a_capped_batch_and_no_validation(
    tmp_path: Path, mode: str, capsys: pytest.CaptureFixture[str], photo_folder: PhotoFolder
) -> None:
    root = photo_folder(tmp_path / "photos", per_class=3)
    extra = ["--data.mode", mode, "--data.num_workers", "0"]
    assert train_cli(root, tmp_path / "run", tmp_path / "cache", *extra) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    # 3 a class: 1 held out for test by the 0.2 fraction, none for val (0.3 rounds to 0), 2 train.
    assert summary["split_sizes"] == {"train": 4, "val": 0, "test": 2}
    assert summary["batch_size"] == 4 and "batches of 4 are used" in capsys.readouterr().err
    assert summary["global_step"] == 20  # one batch of 4 per epoch, 20 epochs
    assert summary["best_checkpoint"].startswith("the last epoch's")
    assert summary["final"]["checkpoint"] == "last" and summary["val_acc"] is None
    assert set(summary["checkpoints"]) == {"best", "last"}
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "bundle")]) == 0


@pytest.mark.usefixtures("no_network")
def test_train_and_val_folders_without_test_report_the_val_split(
    tmp_path: Path, photo_folder: PhotoFolder
) -> None:
    root = photo_folder(tmp_path / "photos", per_class=8, layout="train-val")
    assert train_cli(root, tmp_path / "run", tmp_path / "cache", "--trainer.max_epochs", "3") == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["split_sizes"] == {"train": 12, "val": 4, "test": 0}
    assert summary["final"]["split"] == "val" and summary["final"]["checkpoint"] == "best"
    assert summary["test_acc"] is None and summary["final"]["acc"] is not None
    assert summary["figure_sources"]["final.acc"].startswith("val split (4 images), best.ckpt")
    assert "test_acc" not in summary["figure_sources"]


@pytest.mark.usefixtures("no_network")
def test_a_run_without_optimiser_steps_is_an_error_with_the_reason_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], photo_folder: PhotoFolder
) -> None:
    root = photo_folder(tmp_path / "photos", per_class=3)
    assert train_cli(root, tmp_path / "run", tmp_path / "cache", "--trainer.max_steps", "0") == 2
    err = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert "error: training made no optimiser step" in err and "--trainer.max_steps" in err
    assert not (tmp_path / "run" / "summary.json").exists()

    one = photo_folder(tmp_path / "one", per_class=1)
    (one / "boats" / "000.jpg").write_bytes(b"not an image")
    assert train_cli(one, tmp_path / "run1", tmp_path / "cache") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error: the training split has 1 usable image" in err and "Add images" in err


@pytest.mark.usefixtures("no_network")
def test_one_photo_a_class_trains_and_says_nothing_was_held_out(
    tmp_path: Path, photo_folder: PhotoFolder
) -> None:
    root = photo_folder(tmp_path / "photos", per_class=1)
    assert train_cli(root, tmp_path / "run", tmp_path / "cache", "--trainer.max_epochs", "2") == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["global_step"] == 2 and summary["split_sizes"] == {"train": 2, "val": 0, "test": 0}
    assert summary["final"]["split"] is None and "nothing was held out" in summary["final"]["note"]
    assert summary["test_acc"] is None and summary["val_acc"] is None
