"""Scores that mean what they say: temperature scaling fitted on a run's validation split.

A network trained with label smoothing (or just trained long) is rarely calibrated: the demo's digits model
is right 99.4% of the time with a mean confidence of 86.8%. Temperature scaling (Guo et al., 2017) divides
the logits by one scalar ``T`` fitted to minimise the negative log-likelihood of the validation split's
labels (LBFGS on ``log T``, in float64): top-1 never changes, probabilities become honest.

One addition, and why: when the model makes no mistake on the validation split (the demo's 179 validation
digits), the NLL has no minimum: it keeps falling as ``T -> 0`` (the plain fit stops at T = 0.01, after which
every future mistake is made with certainty: the demo's test NLL rose from 0.160 to 0.679). So the
objective carries a weak log-normal prior on ``T`` (``(log T)^2 / (2 * 0.5^2 * N)`` added to the mean NLL of
``N`` validation images): with hundreds of mistakes it moves ``T`` by well under 1%, and on a perfect
validation split it keeps ``T`` finite (demo: T = 0.34, test NLL 0.028, test ECE 0.126 -> 0.005).

Where it lives, and why there: the fit belongs to the *run* (its checkpoint and its validation split), so it
is stored in the run folder (``RUN/calibration.json``, keyed by the checkpoint's sha256) and read by
:func:`lightship.training.checkpoint.load_trained`, the one loader every command uses. ``train`` fits it when
the run ends; ``evaluate`` and ``export`` read the same file (and fit it first for runs trained before it
existed), so a run's report and its bundle apply one value. Export puts it inside every artifact
(``ModelMeta.temperature``; ``probs`` calibrated, ``logits`` raw).

Never fitted on the test split: a run without a validation split keeps ``T = 1`` and says so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import multiclass_calibration_error

from lightship.data.config import DataConfig
from lightship.data.prepare import load_split
from lightship.errors import LightshipError
from lightship.files import sha256_file, write_json
from lightship.models import Classifier

log = logging.getLogger(__name__)

#: Bins of the expected calibration error (the usual choice since Guo et al.), here and in every report.
CALIBRATION_BINS = 15
#: Standard deviation of the log-normal prior on T (see the module docstring).
PRIOR_SIGMA = 0.5
METHOD = (
    "temperature scaling: LBFGS on log T minimising the NLL of the validation split's logits "
    f"(+ a weak log-normal prior, sigma {PRIOR_SIGMA}, weight 1/N, that keeps T finite when the split has no mistake)"
)


@dataclass
class Calibration:
    """The temperature of one checkpoint and the evidence for it (``fitted`` False: T = 1, ``reason`` why)."""

    temperature: float
    fitted: bool
    reason: str
    checkpoint_sha256: str | None = None
    split: str | None = None
    images: int = 0
    nll_before: float | None = None
    nll_after: float | None = None
    ece_before: float | None = None
    ece_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """ECE (L1, :data:`CALIBRATION_BINS` equal-width bins, torchmetrics) of ``N x C`` probabilities."""
    return float(
        multiclass_calibration_error(probs, labels, probs.shape[1], n_bins=CALIBRATION_BINS, norm="l1")
    )


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The ``T > 0`` minimising ``cross_entropy(logits / T, labels)`` plus the weak prior on ``log T``
    (LBFGS, strong Wolfe line search, float64)."""
    logits64, labels = logits.detach().double(), labels.long()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")
    prior = 1.0 / (2.0 * PRIOR_SIGMA**2 * len(labels))

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits64 / log_t.exp(), labels) + prior * log_t.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def calibrate_logits(logits: torch.Tensor, labels: torch.Tensor, checkpoint_sha256: str) -> Calibration:
    """Fit the temperature on validation ``logits`` and measure NLL and ECE before and after."""
    temperature = fit_temperature(logits, labels)
    logits = logits.float()

    def nll(t: float) -> float:
        return float(F.cross_entropy(logits / t, labels.long()))

    def ece(t: float) -> float:
        return expected_calibration_error((logits / t).softmax(1), labels)

    return Calibration(
        temperature=round(temperature, 6),
        fitted=True,
        reason=METHOD,
        checkpoint_sha256=checkpoint_sha256,
        split="val",
        images=len(labels),
        nll_before=round(nll(1.0), 6),
        nll_after=round(nll(temperature), 6),
        ece_before=round(ece(1.0), 6),
        ece_after=round(ece(temperature), 6),
    )


def not_fitted(reason: str) -> Calibration:
    return Calibration(temperature=1.0, fitted=False, reason=reason)


def read_calibration(path: Path, checkpoint_sha256: str | None = None) -> Calibration | None:
    """The stored calibration (of the checkpoint with this sha256, when given), or None (absent, stale or
    unreadable)."""
    try:
        stored = Calibration(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return stored if checkpoint_sha256 in (None, stored.checkpoint_sha256) else None


@torch.no_grad()  # not inference_mode: the fit differentiates through these logits' division
def _val_logits(classifier: Classifier, config: DataConfig) -> tuple[torch.Tensor, torch.Tensor] | None:
    split = load_split(config, "val")
    if len(split.labels) == 0:
        return None
    classifier = classifier.float().eval()
    logits = torch.cat([classifier(split.images[i : i + 512]) for i in range(0, len(split.labels), 512)])
    return logits, split.labels


def run_calibration(path: Path, checkpoint: Path, classifier: Classifier, config: DataConfig) -> Calibration:
    """The calibration of ``checkpoint`` kept at ``path`` (a run's calibration.json), fitted and written
    there first when missing or stale. Without a validation split nothing is fitted (and that is stored)."""
    sha = sha256_file(checkpoint)
    stored = read_calibration(path, sha)
    if stored is not None:
        return stored
    try:
        val = _val_logits(classifier, config)
    except LightshipError as exc:  # data moved or unreadable: say so, fit nothing, store nothing
        log.warning("no temperature fitted for %s: its validation data cannot be read (%s)", checkpoint, exc)
        return not_fitted(f"the run's validation data could not be read ({exc})")
    if val is None:
        result = not_fitted(
            "the run has no validation split (val_fraction 0 and no val/ folder); scores are the raw softmax "
            "(a temperature is never fitted on the test split)"
        )
        result.checkpoint_sha256 = sha
    else:
        result = calibrate_logits(*val, checkpoint_sha256=sha)
    try:
        write_json(path, result.to_dict())
    except OSError as exc:  # a read-only run folder still evaluates and exports, fitting again next time
        log.warning("cannot store %s (%s)", path, exc)
    return result
