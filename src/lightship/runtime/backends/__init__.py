"""The runtime table: a runtime's name -> the module that loads an artifact in it.

Every backend shares one contract (``load(path, threads)`` -> an object whose ``run`` takes a uint8 NHWC
batch and returns ``(probs, logits)``), so the Predictor, ``verify`` and ``benchmark`` drive every runtime
through the same code path users do. Threads are resolved once here, so every runtime gets the same
default. Adding a runtime is one module here and one row below; ``--runtime`` choices follow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from lightship.errors import LightshipError
from lightship.tables import Row, Table

#: A row's ``target`` is ``load(path, threads) -> Backend``, as ``"module:function"``.
RUNTIMES: Table[Row] = Table(
    "runtime",
    {
        "onnxruntime": Row(target="lightship.runtime.backends.onnxruntime:load"),
        "openvino": Row(target="lightship.runtime.backends.openvino:load", extra="openvino"),
        "torchscript": Row(target="lightship.runtime.backends.torchscript:load"),
    },
    error=LightshipError,
)

#: What ``--runtime`` accepts: ``auto`` (the bundle's preference) or a row of the table.
RuntimeChoice = Literal[("auto", *RUNTIMES.names())]


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
    RUNTIMES[runtime].check_installed()
    return RUNTIMES.load(runtime)(path, threads)
