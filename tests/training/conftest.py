"""Shared by the command-line trainings of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def quick() -> list[str]:
    """`lightship train` options for a run of a few seconds: the digits recipe at 16 px with a narrow net."""
    return [
        "--config",
        str(REPO / "configs" / "digits.yaml"),
        "--data.image_size",
        "16",
        "--model.kwargs",
        "{widths: [8, 16, 16]}",
        "--trainer.enable_progress_bar",
        "false",
    ]
