"""Lightning's own loggers and callbacks from the command line, in LightningCLI's syntax, next to the run
folder's: TensorBoard and CSV loggers write where they were told, EarlyStopping stops the run, and the
run's config.yaml keeps them so that --resume rebuilds them."""

from __future__ import annotations

import json

import yaml

from lightship.cli import main


def test_tensorboard_csv_and_early_stopping_from_the_command_line(tmp_path, monkeypatch, quick) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [
        "train",
        *quick,
        "--trainer.max_epochs",
        "6",
        "--trainer.logger+=TensorBoardLogger",
        "--trainer.logger.save_dir",
        "tb",
        "--trainer.logger+=CSVLogger",
        "--trainer.logger.save_dir",
        "csv",
        "--trainer.callbacks+=EarlyStopping",
        "--trainer.callbacks.monitor",
        "val/acc",
        "--trainer.callbacks.mode",
        "max",
        "--trainer.callbacks.patience",
        "1",
        "--trainer.callbacks.min_delta",
        "2.0",  # no accuracy can improve by 2: the run must stop after patience + 1 epochs
        "--out",
        "run",
    ]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["epochs"] == 2, summary["epochs"]
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*")), (
        "the extra TensorBoard logger wrote nothing"
    )
    assert list((tmp_path / "csv").rglob("metrics.csv")), "the extra CSV logger wrote nothing"
    assert (tmp_path / "run" / "metrics.csv").is_file() and list((tmp_path / "run" / "tensorboard").iterdir())
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["trainer"]
    assert [c["class_path"] for c in saved["callbacks"]] == ["lightning.pytorch.callbacks.EarlyStopping"]
    assert [lg["class_path"].rsplit(".", 1)[1] for lg in saved["logger"]] == [
        "TensorBoardLogger",
        "CSVLogger",
    ]
