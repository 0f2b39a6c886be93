"""Verification: every artifact, in its own runtime, against the eager PyTorch model on the same images.

Why: an export is only trustworthy if it computes the same function. fp32 artifacts must agree on the
top-1 class for >= 99.9% of images and differ by <= 1e-4 in any probability; int8 may lose at most one
point of accuracy (only checkable with labels; without labels its agreement is reported, not gated).
A top-1 "disagreement" where the eager model's two best classes are tied within ``TIE_TOLERANCE`` is a
numerical tie, not a different answer, and counts as agreement. Each artifact also runs two odd-shaped
batches (non-square, tiny) so a graph frozen to the example's shape cannot pass.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lightship.bundle.integrity import check_files
from lightship.bundle.manifest import read_manifest
from lightship.bundle.reference import load_reference
from lightship.bundle.samples import SAMPLES_NAME, ImageSet, data_images, load_samples
from lightship.bundle.verification import ArtifactCheck, VerifyReport
from lightship.data.config import DataConfig
from lightship.models import InferenceWrapper
from lightship.runtime.backends import Backend, open_backend, resolve_threads

FP32_MIN_AGREEMENT = 0.999
FP32_MAX_PROB_DIFF = 1e-4
INT8_MAX_ACCURACY_DROP = 1.0  # percentage points
TIE_TOLERANCE = 1e-6
THRESHOLDS = {
    "fp32_min_top1_agreement": FP32_MIN_AGREEMENT,
    "fp32_max_abs_prob_diff": FP32_MAX_PROB_DIFF,
    "int8_max_accuracy_drop_points": INT8_MAX_ACCURACY_DROP,
    "tie_tolerance": TIE_TOLERANCE,
}
BATCH_SIZE = 64


def _batches(images: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(images[i : i + BATCH_SIZE]) for i in range(0, len(images), BATCH_SIZE)]


def _odd_shapes(size: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (3, size + 7, 2 * size + 3, 3), dtype=np.uint8),
        rng.integers(0, 256, (1, 1, 5, 3), dtype=np.uint8),
    ]


def _eager(wrapper: InferenceWrapper, batch: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return wrapper(torch.from_numpy(batch))[0].numpy()


def _accuracy(probs: np.ndarray, labels: np.ndarray | None) -> float | None:
    return None if labels is None else float((probs.argmax(1) == labels).mean() * 100.0)


def _agreement(reference: np.ndarray, probs: np.ndarray) -> float:
    chosen = reference[np.arange(len(probs)), probs.argmax(1)]
    return float((chosen >= reference.max(1) - TIE_TOLERANCE).mean())


def check_artifact(
    artifact: dict[str, Any],
    backend: Backend,
    images: ImageSet,
    reference: np.ndarray,
    odd: list[tuple[np.ndarray, np.ndarray]],
) -> ArtifactCheck:
    """Run ``backend`` on ``images`` and the odd-shaped batches and apply the thresholds of its precision."""
    backend.run(images.images[:1])  # warm-up: first-call allocation and kernel selection are not latency
    start = time.perf_counter()
    probs = np.concatenate([backend.run(batch)[0] for batch in _batches(images.images)])
    latency_ms = (time.perf_counter() - start) * 1000.0 / len(probs)
    diff = float(np.abs(probs - reference).max())
    for batch, expected in odd:
        diff = max(diff, float(np.abs(backend.run(batch)[0] - expected).max()))
    agreement = _agreement(reference, probs)
    accuracy = _accuracy(probs, images.labels)
    failures: list[str] = []
    if artifact["precision"] == "int8":
        passed = None
        if accuracy is not None:
            drop = _accuracy(reference, images.labels) - accuracy
            if drop > INT8_MAX_ACCURACY_DROP:
                failures.append(f"accuracy drop {drop:.2f} points > {INT8_MAX_ACCURACY_DROP}")
            passed = not failures
    else:
        if agreement < FP32_MIN_AGREEMENT:
            failures.append(f"top-1 agreement {agreement:.4f} < {FP32_MIN_AGREEMENT}")
        if not diff <= FP32_MAX_PROB_DIFF:  # `not <=` so that NaN fails too
            failures.append(f"max abs prob diff {diff:.2e} > {FP32_MAX_PROB_DIFF:.0e}")
        passed = not failures
    return ArtifactCheck(
        artifact["format"],
        artifact["runtime"],
        artifact["precision"],
        agreement,
        diff,
        accuracy,
        latency_ms,
        passed,
        failures,
    )


def _images(root: Path, data: DataConfig | ImageSet | None, n: int) -> ImageSet:
    if isinstance(data, ImageSet):
        return data.head(n)
    if isinstance(data, DataConfig):
        return data_images(data, "test", n)
    return load_samples(root / SAMPLES_NAME).head(n)


def verify_bundle(
    bundle: str | Path, data: DataConfig | ImageSet | None = None, n: int = 1000, threads: int | None = None
) -> VerifyReport:
    """Verify every artifact of ``bundle`` on ``n`` images of ``data`` (default: the bundle's samples).

    Files are checked against their manifest sha256 first, so a tampered bundle never gets as far as
    being compared. Returns the report; ``report.passed`` says whether all thresholds held.
    """
    root = Path(bundle)
    manifest = read_manifest(root)
    check_files(root, [f for a in manifest["artifacts"] for f in a["files"]] + manifest["reference"]["files"])
    threads = resolve_threads(threads)
    wrapper = InferenceWrapper(load_reference(root / manifest["reference"]["files"][0]["path"]))
    images = _images(root, data, n)
    reference = np.concatenate([_eager(wrapper, batch) for batch in _batches(images.images)])
    odd = [(batch, _eager(wrapper, batch)) for batch in _odd_shapes(manifest["input"]["image_size"])]
    checks = []
    for artifact in manifest["artifacts"]:
        backend = open_backend(artifact["runtime"], root / artifact["file"], threads)
        checks.append(check_artifact(artifact, backend, images, reference, odd))
    return VerifyReport(
        images.source, len(images.images), threads, _accuracy(reference, images.labels), checks, THRESHOLDS
    )
