"""The CUDA path, on a machine with an NVIDIA GPU and onnxruntime-gpu: parity and speed of onnx and onnx-fp16.

    python benchmarks/gpu_check.py BUNDLE            # BUNDLE exported with --formats onnx,onnx-fp16

For each ONNX artifact of BUNDLE it opens ``lightship.load(BUNDLE, format=F, device="cuda")`` (the code
path of ``serve --device cuda``), prints the session's providers, and compares the probabilities on the
bundle's sample images with the fp32 ONNX artifact on the CPU (which ``lightship verify`` compares with the
eager model): top-1 agreement, max |Δprob|, accuracy when labelled, and batch-64 ms/image on both devices.
Exit status 1 when CUDA is unavailable (the error says why) or a figure misses its precision's gate.
Needs only numpy, Pillow and onnxruntime-gpu besides lightship's source (PYTHONPATH=src).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import lightship
from lightship.bundle.manifest import read_manifest
from lightship.errors import LightshipError
from lightship.export.gates import limit


def _probs(predictor: lightship.Predictor, images: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities for ``images`` in batches of 64, and the mean ms/image after one warm-up batch."""
    predictor.run(images[:64])
    start = time.perf_counter()
    probs = np.concatenate([predictor.run(images[i : i + 64]) for i in range(0, len(images), 64)])
    return probs, (time.perf_counter() - start) * 1000.0 / len(images)


def main(bundle: Path) -> int:
    import onnxruntime

    with np.load(bundle / "samples.npz", allow_pickle=False) as samples:
        images = samples["images"]
        labels = samples["labels"] if "labels" in samples.files else None
    print(
        f"onnxruntime {onnxruntime.__version__}, providers available: {onnxruntime.get_available_providers()}"
    )
    print(f"{len(images)} sample images {images.shape[1]}x{images.shape[2]} from {bundle}")
    reference, cpu_ms = _probs(lightship.load(bundle, format="onnx", device="cpu"), images)
    print(f"onnx on cpu: {cpu_ms:.3f} ms/image (the reference below)")
    failed = False
    for artifact in read_manifest(bundle)["artifacts"]:
        if artifact["runtime"] != "onnxruntime":
            continue
        name, precision, kind = (
            artifact["format"],
            artifact["precision"],
            artifact.get("gate", artifact["precision"]),
        )
        try:
            predictor = lightship.load(bundle, format=name, device="cuda")
        except LightshipError as exc:
            print(f"{name}: CUDA unavailable: {exc}")
            return 1
        probs, ms = _probs(predictor, images)
        agreement = float((probs.argmax(1) == reference.argmax(1)).mean())
        diff = float(np.abs(probs - reference).max())
        accuracy = "-" if labels is None else f"{(probs.argmax(1) == labels).mean() * 100:.2f}%"
        # The artifact's own gates (lightship.export.gates); int8 has no |Δprob| gate.
        min_agreement = limit(kind, "top1_agreement")
        max_diff = limit(kind, "max_abs_prob_diff") or np.inf
        ok = agreement >= min_agreement and diff <= max_diff
        failed |= not ok
        providers = predictor.backend.session.get_providers()
        print(
            f"{name} on cuda ({precision}; providers {providers}): top-1 agreement {agreement * 100:.2f}%, "
            f"max |Δprob| {diff:.2e}, accuracy {accuracy}, {ms:.3f} ms/image  [{'pass' if ok else 'FAIL'}]"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
