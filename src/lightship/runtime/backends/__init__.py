"""The runtime table: a runtime's name -> the module that loads an artifact in it.

Every backend shares one contract (``load(path, threads)`` -> an object whose ``run`` takes a uint8 NHWC
batch and returns the artifact's outputs in the bundle's order: ``(probs, logits, pixels)``, or ``(probs,
logits)`` for artifacts written before ``pixels`` existed), so the Predictor, ``verify`` and ``benchmark`` drive every runtime
through the same code path users do. Threads are resolved once here, so every runtime gets the same
default. Adding a runtime is one module here and one row below; ``--runtime`` choices follow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from lightship.errors import LightshipError
from lightship.tables import Row, Table


@dataclass(frozen=True, kw_only=True)
class Runtime(Row):
    """A runtime; its ``target`` is ``load(path, threads) -> Backend``, as ``"module:function"``."""

    torch_kernels: bool = False
    """It runs torch's own CPU kernels, so its network input must equal the training data path's bit for
    bit (verification's off-size pixel gates); other runtimes may land one level off at rounding ties."""


RUNTIMES: Table[Runtime] = Table(
    "runtime",
    {
        "onnxruntime": Runtime(target="lightship.runtime.backends.onnxruntime:load"),
        "openvino": Runtime(target="lightship.runtime.backends.openvino:load", extra="openvino"),
        "torchscript": Runtime(target="lightship.runtime.backends.torchscript:load", torch_kernels=True),
    },
    error=LightshipError,
)

#: What ``--runtime`` accepts: ``auto`` (the bundle's preference), a row of the table, or the name of one of
#: the bundle's formats (``onnx`` = its ONNX artifact, run in onnxruntime). Checked against the bundle when it
#: is opened (:func:`lightship.runtime.predictor.artifact_candidates`), where the error lists every name.
RuntimeChoice = str


#: The outputs of an artifact, in the order every backend returns them (docs/bundle.md).
OUTPUTS = ("probs", "logits", "pixels")


class Backend(Protocol):
    """A loaded artifact. ``run`` takes ``uint8 N x H x W x 3`` and returns float32 ``(probs, logits,
    pixels)`` (the ones of :data:`OUTPUTS` the artifact has, in that order)."""

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]: ...


def default_threads() -> int:
    """The CPU cores this process may use: the one default thread count of every runtime."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS/Windows
        return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    """``threads``, or the default when None; a LightshipError for fewer than one."""
    if threads is None:
        return default_threads()
    if threads < 1:
        raise LightshipError(f"--threads must be 1 or more (it is {threads}); leave it out to use every core")
    return threads


def open_backend(runtime: str, path: Path, threads: int) -> Backend:
    """Load the artifact at ``path`` (its main file) in ``runtime`` with ``threads`` CPU threads."""
    RUNTIMES[runtime].check_installed()
    return RUNTIMES.load(runtime)(path, threads)
