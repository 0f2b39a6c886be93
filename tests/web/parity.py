"""Comparing a JavaScript runner's decoded pixels and probabilities with Python's (conftest.Reference).

Thresholds. Where the pixels are identical, the probabilities differ only by the runtimes' float arithmetic
(onnxruntime-web's WebAssembly kernels vs native ONNX Runtime): PROB_TOL bounds that, and every test asserts
PROB_TOL is below the smallest change that a one-level shift of one colour channel causes on any test image
(``Reference.one_level_shift``, computed with Python on the same trained model), so a decoder that is one
level off in one channel fails the probability check as well as the pixel check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PROB_TOL = 5e-6
#: On WebGPU (Chromium's software adapter, SwiftShader: float32 shaders, onnxruntime-web's WebGPU kernels with
#: other summation orders than the CPU's, and the resize's uint8 rounding landing one level off where a value
#: is near a boundary) the page's probabilities differ from Python's CPU ones by up to 8.2e-4 and 1.1e-3 (four
#: runs), more than moving a whole colour channel by one level does on a confident model (2.9e-4, 6.3e-5 in
#: two runs: the trained model's confidence varies between runs), so no bound below that effect holds; the
#: decoder's pixels are checked exactly, at PROB_TOL, by the WebAssembly tests on the same files. This bound is
#: the GPU execution's: with top-1 equal, it catches a wrong artifact, a missing normalisation or a failed GPU
#: run, not a one-level decoder error (the WebAssembly tests' job). The fp16 gate, for comparison, is 1e-2.
WEBGPU_PROB_TOL = 2e-3


def read_pixels(folder: Path, name: str) -> np.ndarray | str:
    """The H x W x 3 pixels a runner wrote for ``name`` (``<name>.<W>x<H>.rgb``), or its error message."""
    error = folder / f"{name}.err"
    if error.exists():
        return error.read_text()
    [path] = folder.glob(f"{name}.*.rgb")
    width, height = map(int, path.name.rsplit(".", 2)[1].split("x"))
    return np.frombuffer(path.read_bytes(), np.uint8).reshape(height, width, 3)


def pixel_difference(got: np.ndarray, expected: np.ndarray) -> tuple[int, float]:
    """(max |difference| in levels, fraction of values that differ); sizes must match."""
    assert got.shape == expected.shape, f"size {got.shape} instead of Python's {expected.shape}"
    diff = np.abs(got.astype(np.int16) - expected)
    return int(diff.max()), float((diff > 0).mean())


def check_thresholds(reference: dict, tolerance: float = PROB_TOL) -> float:
    """The smallest one-level-shift effect over the test images; asserts ``tolerance`` is below it."""
    weakest = min(ref.one_level_shift for ref in reference.values())
    assert weakest > tolerance, (
        f"tolerance {tolerance} would not catch a one-level shift (smallest effect {weakest})"
    )
    return weakest
