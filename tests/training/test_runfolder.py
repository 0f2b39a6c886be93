"""Run folders never mix two runs: an existing --out is refused unless --overwrite (which empties it first)
or --resume; without --out, folders are numbered NAME, NAME2, NAME3; a run that fails before training
leaves no folder behind; the summary promises only files that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightship.cli import main
from lightship.data.config import DataConfig
from lightship.errors import LightshipError
from lightship.training import ModelConfig, TrainConfig
from lightship.training.runfolder import RunFolder


def _config(tmp_path: Path, **kwargs) -> TrainConfig:
    return TrainConfig(
        data=DataConfig(source="digits"),
        model=ModelConfig(name="airbench"),
        trainer={"default_root_dir": str(tmp_path / "runs")},
        **kwargs,
    )


def test_folders_are_numbered_like_ultralytics(tmp_path: Path) -> None:
    claimed = [RunFolder.claim(_config(tmp_path)).root for _ in range(3)]
    assert [p.name for p in claimed] == ["digits-airbench", "digits-airbench2", "digits-airbench3"]
    assert RunFolder.claim(_config(tmp_path, name="mine")).root == tmp_path / "runs" / "mine"


def test_an_existing_out_is_refused_unless_overwrite_and_never_a_foreign_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "best.ckpt").write_text("an old run's")
    with pytest.raises(LightshipError, match="--overwrite"):
        RunFolder.claim(_config(tmp_path, out=out))
    assert RunFolder.claim(_config(tmp_path, out=out, overwrite=True)).root == out
    assert list(out.iterdir()) == []  # emptied: nothing of the old run can mix into the new one
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"precious")
    with pytest.raises(LightshipError, match="will not delete it"):
        RunFolder.claim(_config(tmp_path, out=foreign, overwrite=True))
    assert (foreign / "cat.jpg").read_bytes() == b"precious"


def test_a_run_that_fails_before_training_leaves_no_folder(tmp_path, monkeypatch, capsys, quick) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *quick, "--trainer.max_epochs", "1", "--trainer.accelerator", "quantum"]) == 2
    assert "accelerator" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_fast_dev_run_promises_no_checkpoint_it_did_not_write(tmp_path, monkeypatch, capsys, quick) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *quick, "--trainer.max_epochs", "1", "--trainer.fast_dev_run", "--out", "dev"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "dev" / "summary.json").read_text())
    assert summary["checkpoints"] == {} and not (tmp_path / "dev" / "checkpoints").exists()
    assert "checkpoints: none written" in printed and ".ckpt" not in printed


def test_out_then_overwrite_replaces_the_whole_run(tmp_path, monkeypatch, capsys, quick) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *quick, "--trainer.max_epochs", "1", "--out", "run"]) == 0
    (tmp_path / "run" / "stale.txt").write_text("from the first run")
    assert main(["train", *quick, "--trainer.max_epochs", "1", "--out", "run"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                *quick,
                "--trainer.max_epochs",
                "1",
                "--out",
                "run",
                "--overwrite",
                "--model.name",
                "resnet18_cifar",
                "--model.kwargs",
                "{}",
            ]
        )
        == 0
    )
    assert not (tmp_path / "run" / "stale.txt").exists()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["model"] == "resnet18_cifar"
    assert all(Path(p).is_file() for p in summary["checkpoints"].values()) and summary["checkpoints"]
