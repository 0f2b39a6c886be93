"""``curves.png`` of a run folder from its ``metrics.csv`` (Lightning's CSVLogger): loss, accuracy and
learning rate per epoch.

The CSV mixes per-step and per-epoch rows with blank cells; only per-epoch values are drawn (the last
value logged in each epoch), so train and val line up on the same x axis whatever the logging interval.
"""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.figure import Figure

from lightship.files import save_figure

#: Panels and the substring that puts a metric column into each.
PANELS = (("Loss", "loss"), ("Accuracy", "acc"), ("Learning rate", "lr-"))


def read_epoch_metrics(metrics_csv: Path) -> dict[str, dict[int, float]]:
    """``{column: {epoch: value}}`` for every metric column; per-step and final test columns skipped."""
    series: dict[str, dict[int, float]] = {}
    with open(metrics_csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            epoch = row.get("epoch") or ""
            if not epoch:
                continue
            for column, value in row.items():
                if (
                    column in {"epoch", "step"}
                    or column.endswith("_step")
                    or column.startswith("test/")
                    or not value
                ):
                    continue
                series.setdefault(column, {})[int(float(epoch))] = float(value)
    return series


def plot_curves(metrics_csv: Path, out_png: Path) -> None:
    """Draw loss, accuracy and (when logged) learning rate per epoch, train and val, into ``out_png``.

    Runs at the end of every ``lightship train`` so each run folder has ``curves.png``; a run
    stopped before its first epoch still gets a picture saying there is nothing yet instead of no file.
    """
    series = read_epoch_metrics(Path(metrics_csv))
    panels = [(title, {c: v for c, v in series.items() if key in c}) for title, key in PANELS]
    panels = [panel for panel in panels if panel[1]] or [("No per-epoch metrics logged yet", {})]
    fig = Figure(figsize=(5 * len(panels), 4), layout="constrained")
    for ax, (title, columns) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        ax.set_title(title)
        ax.set_xlabel("Epoch")
        ax.grid(alpha=0.3)
        for column, values in sorted(columns.items()):
            epochs = sorted(values)
            ax.plot(
                epochs,
                [values[e] for e in epochs],
                marker="o",
                markersize=3,
                label=column.removesuffix("_epoch"),
            )
        if columns:
            ax.legend()
        if title == "Learning rate":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    save_figure(Path(out_png), fig)
