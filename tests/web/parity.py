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

from .conftest import Reference

PROB_TOL = 5e-6
#: On WebGPU (float32 shaders on Chromium's software adapter, other summation orders than the CPU's) the
#: resize's arithmetic differs by ~1e-4 levels, so a value near a rounding boundary of the in-graph uint8
#: rounding can land one level off, as verification allows other runtimes off size (one level on at most 0.1%
#: of values). Such sparse flips move the probabilities less than moving a whole colour channel by one level
#: does, so each image's bound is its own one-level-shift effect (``Reference.one_level_shift``; seen from
#: 6e-5 to 1.5e-3, with the trained model's confidence), never below the fp32 gate's 1e-4: a kernel error or a
#: shift of a whole channel exceeds it. (A fixed bound cannot work: on a confident model a whole-channel shift
#: moves the probabilities by less than the flips do on a less confident one.)
WEBGPU_FLOOR = 1e-4


def webgpu_bound(reference: Reference) -> float:
    """The largest probability difference the page on WebGPU may show for one image (see above)."""
    return max(WEBGPU_FLOOR, reference.one_level_shift)


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
