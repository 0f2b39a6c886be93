"""One backend per runtime: each runs an artifact on a uint8 NHWC batch and returns (probs, logits).

Backends share one contract so the Predictor, ``verify`` and ``benchmark`` drive every runtime through
the same code path users do. Threads are resolved once here, so every runtime gets the same default.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Protocol

import numpy as np

RUNTIMES = ("onnxruntime", "openvino", "torchscript")


class Backend(Protocol):
    """A loaded artifact. ``run`` takes ``uint8 N x H x W x 3`` and returns float32 ``(probs, logits)``."""

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def default_threads() -> int:
    """The CPU cores this process may use: the one default thread count of every runtime."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS/Windows
        return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    if threads is None:
        return default_threads()
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return threads


def open_backend(runtime: str, path: Path, threads: int) -> Backend:
    """Load the artifact at ``path`` (its main file) in ``runtime`` with ``threads`` CPU threads."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    module = importlib.import_module(f"{__name__}.{runtime}")
    return module.load(path, threads)
