"""--resume continues only what it can: every difference between the run and the new settings is named, a
finished run is said to be finished, and a refused resume changes nothing in the run folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import lightning as L
import pytest
import torch

from lightship.cli import main
from lightship.data.config import DataConfig
from lightship.training import ModelConfig, TrainConfig, train


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class _WorseEveryEpoch(L.Callback):
    """Reports a validation accuracy that falls every epoch, so only the first epoch is ever the best."""

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.callback_metrics["val/acc"] = torch.tensor(1.0 - 0.1 * trainer.current_epoch)


@pytest.fixture
def finished_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick: list[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *quick, "--trainer.max_epochs", "2", "--out", "run"]) == 0
    return tmp_path / "run"


def test_last_checkpoint_is_the_last_epoch_even_when_the_best_is_older(tmp_path: Path) -> None:
    """Lightning >= 2.6 writes save_last only when the best improves; last.ckpt must still be every epoch's."""
    config = TrainConfig(
        data=DataConfig(source="digits", image_size=16),
        model=ModelConfig(kwargs={"widths": [8, 16, 16]}),
        trainer={"max_epochs": 3, "enable_progress_bar": False},
        out=tmp_path / "run",
    )
    train(config, callbacks=[_WorseEveryEpoch()])
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.ckpt", weights_only=True)
    assert (best["epoch"], last["epoch"]) == (0, 2)


def test_resuming_a_finished_run_says_so_and_changes_nothing(finished_run: Path, capsys) -> None:
    before = _fingerprint(finished_run)
    assert main(["train", "--resume", str(finished_run)]) == 2
    assert "already finished: 2 epochs" in capsys.readouterr().err
    assert _fingerprint(finished_run) == before


def test_a_refused_resume_names_every_difference_and_changes_nothing(finished_run: Path, capsys) -> None:
    before = _fingerprint(finished_run)
    changed = [
        "--model.kwargs",
        "{widths: [16, 16, 16]}",
        "--optim.optimizer",
        "adamw",
        "--data.image_size",
        "24",
    ]
    assert main(["train", f"--resume={finished_run}", "--trainer.max_epochs", "4", *changed]) == 2
    err = capsys.readouterr().err
    for name in ("model.kwargs", "optim.optimizer", "data.image_size", "data.mean"):
        assert name in err, name
    assert _fingerprint(finished_run) == before


def test_resuming_a_finished_run_for_more_epochs_keeps_a_complete_summary(finished_run: Path) -> None:
    assert main(["train", "--resume", str(finished_run), "--trainer.max_epochs", "3"]) == 0
    summary = json.loads((finished_run / "summary.json").read_text())
    assert summary["epochs"] == 3 and None not in (summary["test_acc"], summary["val_acc"])
    assert torch.load(finished_run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 2
