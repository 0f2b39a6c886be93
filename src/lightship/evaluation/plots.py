"""Report pictures: confusion matrix, reliability diagram and image grids (matplotlib, no display needed).

Figures are built with ``matplotlib.figure.Figure`` directly instead of pyplot: no global backend or
figure registry, so evaluation can run inside a training process or a server without leaking figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lightship.evaluation.metrics import CalibrationBin
from lightship.files import save_figure

#: Above this many classes the cells are too small for numbers; the colours alone carry the matrix.
MAX_ANNOTATED_CLASSES = 30


def _label_fontsize(n: int) -> float:
    """10 pt up to 15 classes, shrinking to 8 pt from about 45: still one label per 0.35-inch cell."""
    return float(np.clip(10 - (n - 15) / 15, 8, 10))


def plot_confusion_matrix(confusion: Sequence[Sequence[int]], class_names: Sequence[str], path: Path) -> None:
    """Counts (left) and row-normalised rates (right), rows = true class, class names on both axes.

    The normalised panel matters for imbalanced test sets, where raw counts hide a small class's errors.
    """
    counts = np.asarray(confusion, dtype=np.int64)
    n = len(class_names)
    totals = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=np.float64), where=totals > 0)
    side = min(4.0 + 0.35 * n, 20.0)
    fig = Figure(figsize=(2 * side + 1.5, side + 1.0), layout="constrained")
    fontsize = _label_fontsize(n)
    cell_font = float(np.clip(11 - n / 3, 5, 10))
    for ax, values, title, fmt in (
        (fig.add_subplot(1, 2, 1), counts, "Counts", "{:d}"),
        (fig.add_subplot(1, 2, 2), rates, "Normalised by true class (recall on the diagonal)", "{:.2f}"),
    ):
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(values.max(), 1e-9), interpolation="nearest")
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(title)
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        ax.set_xticks(
            range(n),
            labels=class_names,
            fontsize=fontsize,
            rotation=90 if n > 10 else 45,
            ha="center" if n > 10 else "right",
            rotation_mode="anchor" if n <= 10 else "default",
        )
        ax.set_yticks(range(n), labels=class_names, fontsize=fontsize)
        if n <= MAX_ANNOTATED_CLASSES:
            threshold = values.max() / 2
            for (row, col), value in np.ndenumerate(values):
                if counts[row, col] == 0:
                    continue
                ax.text(
                    col,
                    row,
                    fmt.format(value),
                    ha="center",
                    va="center",
                    fontsize=cell_font,
                    color="white" if value > threshold else "black",
                )
    save_figure(path, fig)


def plot_reliability(bins: Sequence[CalibrationBin], ece: float, path: Path) -> None:
    """Accuracy per confidence bin against the diagonal, with the share of images per bin below.

    Bars under the diagonal mean over-confidence; the histogram shows which bins carry weight in the ECE.
    """
    fig = Figure(figsize=(6, 7), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    lowers = np.array([b.lower for b in bins])
    widths = np.array([b.upper - b.lower for b in bins])
    filled = np.array([b.count > 0 for b in bins])
    accuracy = np.array([b.accuracy for b in bins])
    confidence = np.array([b.confidence for b in bins])
    top.bar(
        lowers[filled],
        accuracy[filled],
        width=widths[filled],
        align="edge",
        color="tab:blue",
        edgecolor="black",
        label="accuracy",
    )
    gap_bottom = np.minimum(accuracy, confidence)[filled]
    top.bar(
        lowers[filled],
        np.abs(confidence - accuracy)[filled],
        bottom=gap_bottom,
        width=widths[filled],
        align="edge",
        facecolor="none",
        edgecolor="tab:red",
        hatch="//",
        label="gap to confidence",
    )
    top.plot([0, 1], [0, 1], "--", color="black", label="perfect calibration", zorder=3)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("Accuracy")
    top.set_title(f"Reliability diagram (ECE {ece:.3f}, {len(bins)} bins)")
    top.legend(loc="upper left")
    total = max(sum(b.count for b in bins), 1)
    bottom.bar(
        lowers, [b.count / total for b in bins], width=widths, align="edge", color="gray", edgecolor="black"
    )
    bottom.set_xlabel("Confidence (max softmax probability)")
    bottom.set_ylabel("Share of images")
    save_figure(path, fig)


def plot_image_grid(
    images: Sequence[np.ndarray],
    captions: Sequence[str],
    path: Path,
    columns: int,
    title: str,
    caption_colors: Sequence[str] | None = None,
) -> None:
    """uint8 ``H x W x 3`` images in a grid, each with a caption above it (nearest upscaling, no blur)."""
    count = max(len(images), 1)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    lines = max((caption.count("\n") + 1 for caption in captions), default=1)
    fig = Figure(figsize=(1.9 * columns, (1.75 + 0.16 * lines) * rows + 0.5), layout="constrained")
    fig.suptitle(title)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], interpolation="nearest")
            color = caption_colors[i] if caption_colors else "black"
            ax.set_title(captions[i], fontsize=8, color=color)
    if not images:
        axes[0].text(0.5, 0.5, "nothing to show", ha="center", va="center")
    save_figure(path, fig)
