"""Metric functions on hand-made logits whose every number can be worked out on paper."""

from __future__ import annotations

import pytest
import torch

from lightship.evaluation.metrics import compute_metrics, confident_mistakes, most_confused

NAMES = ["cat", "dog", "fox"]
# Rows are softmax probabilities (logits = log p); predictions 0, 0, 1, 0, 2, 1 for labels 0, 0, 1, 1, 2, 2.
PROBS = [
    [0.9, 0.05, 0.05],  # right, confidence 0.9
    [0.7, 0.2, 0.1],  # right, 0.7
    [0.1, 0.8, 0.1],  # right, 0.8
    [0.6, 0.3, 0.1],  # wrong (dog -> cat), 0.6
    [0.05, 0.05, 0.9],  # right, 0.9
    [0.1, 0.5, 0.4],  # wrong (fox -> dog), 0.5
]
LABELS = torch.tensor([0, 0, 1, 1, 2, 2])


def logits() -> torch.Tensor:
    return torch.tensor(PROBS).log()


def test_accuracy_confusion_and_per_class_scores() -> None:
    m = compute_metrics(logits(), LABELS, NAMES)
    assert m.top1 == pytest.approx(4 / 6, abs=1e-6)
    assert m.top5 is None  # fewer than 5 classes
    assert m.confusion_matrix == [[2, 0, 0], [1, 1, 0], [0, 1, 1]]
    expected = {
        "cat": (2 / 3, 1.0, 0.8, 2),
        "dog": (0.5, 0.5, 0.5, 2),
        "fox": (1.0, 0.5, 2 / 3, 2),
    }
    for name, (precision, recall, f1, support) in expected.items():
        scores = m.per_class[name]
        assert scores["precision"] == pytest.approx(precision, abs=1e-6), name
        assert scores["recall"] == pytest.approx(recall, abs=1e-6), name
        assert scores["f1"] == pytest.approx(f1, abs=1e-6), name
        assert scores["support"] == support


def test_expected_calibration_error_and_its_bins() -> None:
    m = compute_metrics(logits(), LABELS, NAMES)
    # Each image sits alone in its bin except the two 0.9s: gaps .1,.1 (right at .9), .3, .2, .6, .5 (wrong).
    assert m.ece == pytest.approx((0.1 + 0.1 + 0.3 + 0.2 + 0.6 + 0.5) / 6, abs=1e-5)
    assert len(m.calibration_bins) == 15
    assert sum(b.count for b in m.calibration_bins) == 6
    weighted_gap = sum(b.count * abs(b.accuracy - b.confidence) for b in m.calibration_bins) / 6
    assert weighted_gap == pytest.approx(m.ece, abs=1e-5)
    top_bin = next(b for b in m.calibration_bins if b.count == 2)
    assert top_bin.lower <= 0.9 < top_bin.upper
    assert (top_bin.accuracy, top_bin.confidence) == (1.0, pytest.approx(0.9, abs=1e-6))
    assert m.mean_confidence == pytest.approx((0.9 + 0.7 + 0.8 + 0.6 + 0.9 + 0.5) / 6, abs=1e-6)


def test_top5_counts_a_label_ranked_fifth_but_not_sixth() -> None:
    ranks = torch.tensor([[6.0, 5, 4, 3, 2, 1]] * 3)  # class 0 first ... class 5 last
    labels = torch.tensor([0, 4, 5])  # ranked 1st, 5th, 6th
    m = compute_metrics(ranks, labels, [f"c{i}" for i in range(6)])
    assert m.top1 == pytest.approx(1 / 3, abs=1e-6)
    assert m.top5 == pytest.approx(2 / 3, abs=1e-6)


def test_most_confused_pairs_and_most_confident_mistakes() -> None:
    m = compute_metrics(logits(), LABELS, NAMES)
    assert most_confused(m.confusion_matrix, NAMES) == [("dog", "cat", 1), ("fox", "dog", 1)]
    assert most_confused([[5, 0], [0, 5]], ["a", "b"]) == []
    assert confident_mistakes(logits(), LABELS) == [3, 5]  # 0.6 before 0.5; right answers never listed
    assert confident_mistakes(logits(), LABELS, k=1) == [3]


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="do not fit 4 classes"):
        compute_metrics(logits(), LABELS, [*NAMES, "owl"])
