"""--resume continues only what it can: every difference between the run and the new settings is named, a
finished run is said to be finished, and a refused resume changes nothing in the run folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from lightship.cli import main

REPO = Path(__file__).resolve().parents[2]
FAST = [
    "--config",
    str(REPO / "configs" / "digits.yaml"),
    "--data.image_size",
    "16",
    "--model.kwargs",
    "{widths: [8, 16, 16]}",
    "--trainer.enable_progress_bar",
    "false",
]


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def finished_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two epochs at a learning rate too small to change val/acc, so only the first epoch is ever the best:
    last.ckpt must still be the last epoch's (Lightning >= 2.6 writes save_last only when the best improves)."""
    monkeypatch.chdir(tmp_path)
    assert main(["train", *FAST, "--trainer.max_epochs", "2", "--optim.lr", "1e-12", "--out", "run"]) == 0
    return tmp_path / "run"


def test_last_checkpoint_is_the_last_epoch_even_when_the_best_is_older(finished_run: Path) -> None:
    last = torch.load(finished_run / "checkpoints" / "last.ckpt", weights_only=True)
    best = torch.load(finished_run / "checkpoints" / "best.ckpt", weights_only=True)
    assert (best["epoch"], last["epoch"]) == (0, 1)


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
