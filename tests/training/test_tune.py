"""``lightship tune``: what it refuses, with a message that says what to do instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightship.errors import LightshipError
from lightship.training import OptimConfig, TrainConfig
from lightship.training.tune import find_lr


def test_lr_range_test_refuses_muon_and_names_the_way_out(tmp_path: Path) -> None:
    config = TrainConfig(optim=OptimConfig(optimizer="muon"), out=tmp_path / "run")
    with pytest.raises(LightshipError, match=r"--optim\.optimizer sgd"):
        find_lr(config, tmp_path / "tune")
    assert not (tmp_path / "tune").exists()
