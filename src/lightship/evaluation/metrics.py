"""Classification metrics from logits and labels, computed with torchmetrics so they match training's.

Everything here is a pure function of ``(logits, labels)``: no model, no files, so each number can be
checked against a hand-made case.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_calibration_error,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

from lightship.training.calibration import CALIBRATION_BINS  # one bin count: the fit and every report


@dataclass
class CalibrationBin:
    """One confidence interval of the reliability diagram: how sure the model was, how often right."""

    lower: float
    upper: float
    count: int
    confidence: float
    accuracy: float


@dataclass
class ClassificationMetrics:
    """The numbers of a report; ``top5`` is None with fewer than 5 classes, where it would always be 1."""

    top1: float
    top5: float | None
    per_class: dict[str, dict[str, float]]
    confusion_matrix: list[list[int]]
    ece: float
    mean_confidence: float
    calibration_bins: list[CalibrationBin]


def compute_metrics(
    logits: torch.Tensor, labels: torch.Tensor, class_names: list[str], bins: int = CALIBRATION_BINS
) -> ClassificationMetrics:
    """Top-1/top-5 accuracy, per-class precision/recall/F1/support, confusion matrix and calibration.

    Per-class scores of a class that is never predicted (precision) or never present (recall) are 0,
    torchmetrics' convention, so a dead class shows up as 0 instead of disappearing from the table.
    """
    n = len(class_names)
    if logits.ndim != 2 or logits.shape[1] != n or len(labels) != len(logits):
        raise ValueError(
            f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} do not fit {n} classes"
        )
    logits, labels = logits.float(), labels.long()
    probs = logits.softmax(dim=1)
    top1 = multiclass_accuracy(logits, labels, n, average="micro").item()
    top5 = multiclass_accuracy(logits, labels, n, top_k=5, average="micro").item() if n >= 5 else None
    scores = {
        "precision": multiclass_precision(logits, labels, n, average="none"),
        "recall": multiclass_recall(logits, labels, n, average="none"),
        "f1": multiclass_f1_score(logits, labels, n, average="none"),
    }
    confusion = multiclass_confusion_matrix(logits, labels, n)
    support = confusion.sum(dim=1)
    per_class = {
        name: {
            **{key: round(values[i].item(), 6) for key, values in scores.items()},
            "support": int(support[i]),
        }
        for i, name in enumerate(class_names)
    }
    confidence, predicted = probs.max(dim=1)
    return ClassificationMetrics(
        top1=round(top1, 6),
        top5=None if top5 is None else round(top5, 6),
        per_class=per_class,
        confusion_matrix=confusion.tolist(),
        ece=round(multiclass_calibration_error(probs, labels, n, n_bins=bins, norm="l1").item(), 6),
        mean_confidence=round(confidence.mean().item(), 6),
        calibration_bins=calibration_bins(confidence, predicted == labels, bins),
    )


def calibration_bins(confidence: torch.Tensor, correct: torch.Tensor, bins: int) -> list[CalibrationBin]:
    """Equal-width confidence bins as torchmetrics draws them (a confidence on an edge goes to the upper bin).

    torchmetrics only returns the scalar ECE; the diagram needs the bins themselves.
    """
    edges = torch.linspace(0, 1, bins + 1)
    index = (torch.bucketize(confidence, edges, right=True) - 1).clamp(0, bins - 1)
    out = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        out.append(
            CalibrationBin(
                lower=round(edges[b].item(), 6),
                upper=round(edges[b + 1].item(), 6),
                count=count,
                confidence=round(confidence[members].mean().item(), 6) if count else 0.0,
                accuracy=round(correct[members].float().mean().item(), 6) if count else 0.0,
            )
        )
    return out


def most_confused(
    confusion: list[list[int]], class_names: list[str], k: int = 5
) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells as (true class, predicted class, count), largest first."""
    pairs = [
        (count, class_names[t], class_names[p])
        for t, row in enumerate(confusion)
        for p, count in enumerate(row)
        if t != p and count > 0
    ]
    pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [(true, pred, count) for count, true, pred in pairs[:k]]


def confident_mistakes(logits: torch.Tensor, labels: torch.Tensor, k: int = 16) -> list[int]:
    """Indices of the ``k`` wrong predictions made with the highest confidence, most confident first.

    These are the images worth looking at: label noise, ambiguous classes, or a shortcut the model learned.
    """
    confidence, predicted = logits.float().softmax(dim=1).max(dim=1)
    wrong = torch.nonzero(predicted != labels).flatten()
    order = confidence[wrong].argsort(descending=True, stable=True)
    return wrong[order][:k].tolist()
