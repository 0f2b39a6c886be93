"""The runtime table: a runtime's name -> the module that loads an artifact in it.

Every backend shares one contract (``load(path, threads)`` -> an object whose ``run`` takes a uint8 NHWC
batch and returns the artifact's outputs in the bundle's order: ``(probs, logits, pixels)``, or ``(probs,
logits)`` for artifacts written before ``pixels`` existed), so the Predictor, ``verify`` and ``benchmark``
drive every runtime through the same code path users do. Threads are resolved once here, so every runtime gets the same
default. A row may also say on which platform the runtime exists at all (Core ML: Apple systems), which
devices besides the CPU its ``load`` accepts (``load(path, threads, device=...)``), and a check of the
artifact's manifest entry before loading (pt2: built for this machine). An artifact whose entry states a
largest input (``max_input``) is refused larger images here, in every runtime. Adding a runtime is one
module here and one row below; ``--runtime`` choices follow.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from lightship.errors import BundleError, LightshipError
from lightship.tables import Row, Table, load_target


@dataclass(frozen=True, kw_only=True)
class RuntimeRow(Row):
    """A runtime; its ``target`` is ``load(path, threads) -> Backend``, as ``"module:function"``."""

    platform: str | None = None
    """The only ``sys.platform`` it runs on (None: any). Elsewhere verify, benchmark and the Predictor say
    "not run on this platform" instead of failing."""
    devices: tuple[str, ...] = ("cpu",)
    """Devices ``load`` accepts as ``device=``: "cpu" always, "cuda" where the runtime has a GPU path."""
    check: str | None = None
    """``"module:function"`` refusing an artifact (its manifest entry) this machine cannot load."""
    torch_kernels: bool = False
    """It runs torch's own CPU kernels, so its network input must equal the training data path's bit for
    bit (verification's off-size pixel gates); other runtimes may land one level off at rounding ties."""

    def unavailable_reason(self, name: str) -> str | None:
        """Why this runtime cannot run on this platform at all (not a missing package), or None."""
        if self.platform is None or sys.platform == self.platform:
            return None
        return f"not run on this platform: {name} runs only on {self.platform} (this is {sys.platform})"


RUNTIMES: Table[RuntimeRow] = Table(
    "runtime",
    {
        "onnxruntime": RuntimeRow(
            target="lightship.runtime.backends.onnxruntime:load", devices=("cpu", "cuda")
        ),
        "openvino": RuntimeRow(target="lightship.runtime.backends.openvino:load", extra="openvino"),
        "torchscript": RuntimeRow(target="lightship.runtime.backends.torchscript:load", torch_kernels=True),
        "aoti": RuntimeRow(
            target="lightship.runtime.backends.aoti:load",
            check="lightship.runtime.backends.aoti:check_record",
        ),
        "executorch": RuntimeRow(target="lightship.runtime.backends.executorch:load", extra="executorch"),
        "litert": RuntimeRow(
            target="lightship.runtime.backends.litert:load", extra="litert", extra_module="ai_edge_litert"
        ),
        "litert-web": RuntimeRow(
            target="lightship.runtime.backends.litert_web:load", extra="litert", extra_module="ai_edge_litert"
        ),
        "coreml": RuntimeRow(
            target="lightship.runtime.backends.coreml:load",
            extra="coreml",
            extra_module="coremltools",
            platform="darwin",
        ),
    },
    error=LightshipError,
)

#: What ``--runtime`` accepts: ``auto`` (the bundle's preference), a row of the table, or the name of one of
#: the bundle's formats (``onnx`` = its ONNX artifact, run in onnxruntime). Checked against the bundle when it
#: is opened (:func:`lightship.runtime.predictor.artifact_candidates`), where the error lists every name.
RuntimeChoice = str
#: Every device some runtime accepts (``--device``).
DEVICES = ("cpu", "cuda")
DeviceChoice = Literal[DEVICES]


class ImageTooLargeError(LightshipError, ValueError):
    """An image exceeds the largest input an artifact was built for (its manifest ``max_input``)."""


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


def unavailable_reason(runtime: str) -> str | None:
    """Why ``runtime`` cannot run on this platform at all (not a missing package), or None."""
    return RUNTIMES[runtime].unavailable_reason(runtime)


def check_device(device: str) -> None:
    """LightshipError naming the choices unless ``device`` is a device some runtime accepts."""
    if device not in DEVICES:
        raise LightshipError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")


def check_image_size(images: np.ndarray, bound: tuple[int, int], artifact: str) -> None:
    """ImageTooLargeError unless every image of the ``N x H x W x 3`` batch fits ``bound`` (height, width)."""
    height, width = images.shape[1], images.shape[2]
    if height > bound[0] or width > bound[1]:
        raise ImageTooLargeError(
            f"{artifact} takes images up to {bound[0]}x{bound[1]} (height x width); this one is "
            f"{height}x{width}. Downscale it first, or use an artifact without a size bound (onnx, pt2)."
        )


class BoundedBackend:
    """A backend whose manifest entry states a largest input: larger images are refused before running."""

    def __init__(self, backend: Backend, bound: tuple[int, int], artifact: str) -> None:
        self.backend, self.bound, self.artifact = backend, bound, artifact

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        check_image_size(images, self.bound, self.artifact)
        return self.backend.run(images)


def open_backend(
    runtime: str, path: Path, threads: int, artifact: dict[str, Any] | None = None, device: str = "cpu"
) -> Backend:
    """Load the artifact at ``path`` (its main file) in ``runtime`` with ``threads`` CPU threads.

    ``artifact`` is its manifest entry: the row's ``check`` reads it (where a pt2 package was built), and
    its ``max_input`` bound is enforced on every call. ``device`` must be one of the row's devices.
    """
    row = RUNTIMES[runtime]
    reason = row.unavailable_reason(runtime)
    if reason is not None:
        raise BundleError(f"the {(artifact or {}).get('format', runtime)} artifact at {path} is {reason}")
    check_device(device)
    if device not in row.devices:
        others = [name for name in RUNTIMES if device in RUNTIMES[name].devices]
        raise LightshipError(
            f"device {device!r} is not a device of {runtime} (it runs on {', '.join(row.devices)}); "
            f"use an artifact of {' or '.join(others)}"
        )
    row.check_installed()
    if artifact is not None and row.check is not None:
        load_target(row.check)(artifact)
    loader = load_target(row.target)
    if device == "cpu":
        backend = loader(path, threads)
    else:  # the precision picks device options (TF32 off for fp32 on CUDA)
        backend = loader(path, threads, device=device, precision=(artifact or {}).get("precision", "fp32"))
    bound = (artifact or {}).get("max_input")
    if bound is None:
        return backend
    return BoundedBackend(backend, (bound["height"], bound["width"]), artifact.get("format", str(path)))
