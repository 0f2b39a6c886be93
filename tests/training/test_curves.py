"""Training curves from a CSVLogger-style metrics.csv with per-step and per-epoch rows."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from lightship.training.curves import plot_curves, read_epoch_metrics

CSV = """epoch,lr-SGD,step,train/acc,train/loss_epoch,train/loss_step,val/acc,val/loss
0,0.1,0,,,2.30,,
0,,4,,,2.0,0.40,1.9
0,,4,0.35,2.1,,,
1,0.05,5,,,1.6,,
1,,9,,,1.2,0.70,1.1
1,,9,0.65,1.4,,,
2,,14,,,0.9,0.80,0.8
2,,14,0.80,0.95,,,
"""


def test_reads_per_epoch_values_and_skips_step_columns(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text(CSV)
    series = read_epoch_metrics(tmp_path / "metrics.csv")
    assert set(series) == {"lr-SGD", "train/acc", "train/loss_epoch", "val/acc", "val/loss"}
    assert series["val/acc"] == {0: 0.40, 1: 0.70, 2: 0.80}
    assert series["train/loss_epoch"] == {0: 2.1, 1: 1.4, 2: 0.95}
    assert series["lr-SGD"] == {0: 0.1, 1: 0.05}


def test_plot_curves_writes_a_png(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text(CSV)
    plot_curves(tmp_path / "metrics.csv", tmp_path / "curves.png")
    with Image.open(tmp_path / "curves.png") as image:
        assert image.format == "PNG"
        assert image.size[0] > 2 * image.size[1]  # three panels side by side


def test_run_without_epochs_still_gets_a_picture(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("epoch,step,train/loss_step\n,0,2.3\n")
    plot_curves(tmp_path / "metrics.csv", tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
