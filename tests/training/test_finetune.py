"""Fine-tuning from an earlier run: --model.weights RUN loads every layer that fits, says which stayed fresh
(the head, for a folder with other classes), and keeps the source run's normalisation."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from lightship.cli import main
from lightship.data import DataConfig, load_split
from lightship.training import load_classifier


def _three_digit_folder(root: Path) -> Path:
    """Digits 0, 1 and 2 as PNG class folders: a new task with 3 classes instead of 10."""
    digits = load_split(DataConfig(source="digits", image_size=32), "train")
    for image, label in zip(digits.images, digits.labels, strict=True):
        if int(label) < 3:
            folder = root / ["zero", "one", "two"][int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.numpy()).save(folder / f"{len(list(folder.iterdir()))}.png")
    return root


def test_fine_tune_a_run_on_other_classes(digits_run: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    photos = _three_digit_folder(tmp_path / "photos")
    argv = [
        "train",
        "--data.root",
        str(photos),
        "--data.image_size",
        "32",
        "--data.batch_size",
        "64",
        "--model.weights",
        str(digits_run),
        "--model.kwargs",
        "{widths: [16, 32, 32], bn_eps: 1.0e-5}",
        "--trainer.max_epochs",
        "1",
        "--trainer.enable_progress_bar",
        "false",
        "--out",
        "tuned",
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "data source imagefolder" in err  # inferred from the folder, and said
    assert (
        f"weights from {digits_run / 'checkpoints' / 'best.ckpt'}" in err
        and "stay freshly initialised (head)" in err
    )
    _, source = load_classifier(digits_run)
    _, tuned = load_classifier(tmp_path / "tuned")
    assert tuned.class_names == ["one", "two", "zero"]
    assert (tuned.mean, tuned.std) == (source.mean, source.std)  # the source run's normalisation
    summary = json.loads((tmp_path / "tuned" / "summary.json").read_text())
    assert summary["weights"] == str(digits_run) and summary["data_source"] == "imagefolder"
