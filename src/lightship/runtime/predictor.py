"""The Predictor: load a bundle once, then classify files, bytes, PIL images or arrays in any runtime.

Images are decoded by the one policy (:func:`lightship.images.decode_image`) and passed as raw uint8
pixels; resizing and normalisation happen inside the artifact. Images of the same size are batched
together, so a mixed list costs one call per distinct size (per ``batch_size`` chunk).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lightship.bundle.integrity import check_files
from lightship.bundle.manifest import find_artifact, preferred_artifacts, read_manifest
from lightship.errors import BundleError, LightshipError, MissingExtraError
from lightship.images import ImageInput, decode_image
from lightship.runtime.backends import RUNTIMES, Backend, open_backend, resolve_threads


@dataclass
class Prediction:
    """One image's result: best label and score, the ``top_k`` (label, prob) pairs, all probabilities."""

    label: str
    score: float
    top_k: list[tuple[str, float]]
    probs: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": self.score,
            "top_k": [{"label": label, "score": score} for label, score in self.top_k],
        }


def top_classes(probs: np.ndarray, labels: list[str], k: int) -> list[tuple[str, float]]:
    """The ``k`` (at least 1, at most all) best ``(label, probability)`` pairs, best first; ties keep class
    order (a stable sort), as the web app and the Node runner do."""
    order = np.argsort(-probs, kind="stable")[: max(1, min(k, len(labels)))]
    return [(labels[i], float(probs[i])) for i in order]


def _candidates(manifest: dict[str, Any], runtime: str) -> list[dict[str, Any]]:
    """The artifacts to try, in the bundle's preference order: ``runtime="auto"`` takes the first that
    passed verification and whose runtime is installed; a named runtime, the first in that runtime."""
    if runtime != "auto" and runtime not in RUNTIMES:
        raise LightshipError(f"unknown runtime {runtime!r}; choose auto or one of {', '.join(RUNTIMES)}")
    ordered = preferred_artifacts(manifest)
    if runtime != "auto":
        return [a for a in ordered if a["runtime"] == runtime]
    return [a for a in ordered if a.get("verification", {}).get("passed") is not False]


class Predictor:
    """A loaded bundle artifact. Use :func:`load` to make one."""

    def __init__(
        self, bundle: str | Path, runtime: str = "auto", threads: int | None = None, format: str | None = None
    ) -> None:
        self.root = Path(bundle)
        self.manifest = read_manifest(self.root)
        self.labels: list[str] = list(self.manifest["labels"])
        self.threads = resolve_threads(threads)
        artifacts = [find_artifact(self.manifest, format)] if format else _candidates(self.manifest, runtime)
        if not artifacts:
            raise BundleError(f"{self.root} has no usable artifact for runtime {runtime!r}")
        self.backend, self.artifact = self._open_first(artifacts)
        self.format: str = self.artifact["format"]
        self.runtime: str = self.artifact["runtime"]

    def _open_first(self, artifacts: list[dict[str, Any]]) -> tuple[Backend, dict[str, Any]]:
        """The first artifact whose runtime is installed; integrity is checked before loading it."""
        missing: list[str] = []
        for artifact in artifacts:
            check_files(self.root, artifact["files"])
            try:
                return open_backend(artifact["runtime"], self.root / artifact["file"], self.threads), artifact
            except MissingExtraError as exc:
                missing.append(str(exc))
        raise MissingExtraError("; ".join(missing))

    def run(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for a ``uint8 N x H x W x 3`` batch of same-size images."""
        return self.backend.run(np.ascontiguousarray(images, dtype=np.uint8))[0]

    def predict_probs(self, images: Sequence[ImageInput], batch_size: int = 32) -> np.ndarray:
        """``N x num_classes`` probabilities; same-size images run together, ``batch_size`` at a time."""
        arrays = [decode_image(image) for image in images]
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, array in enumerate(arrays):
            groups[array.shape].append(index)
        probs = np.zeros((len(arrays), len(self.labels)), dtype=np.float32)
        for indices in groups.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                probs[chunk] = self.run(np.stack([arrays[i] for i in chunk]))
        return probs

    def predict(
        self, images: ImageInput | Sequence[ImageInput], top_k: int = 5, batch_size: int = 32
    ) -> Prediction | list[Prediction]:
        """Classify one image (returns one Prediction) or a list/tuple/4-D array of them (returns a list).

        Accepts paths, bytes, PIL images and numpy arrays (H x W, H x W x 1/3/4). Undecodable input raises
        :class:`lightship.images.ImageDecodeError` naming it.
        """
        single = not isinstance(images, (list, tuple)) and not (
            isinstance(images, np.ndarray) and images.ndim == 4
        )
        batch = [images] if single else list(images)
        results = []
        for probs in self.predict_probs(batch, batch_size):
            top = top_classes(probs, self.labels, top_k)
            results.append(Prediction(top[0][0], top[0][1], top, probs))
        return results[0] if single else results


def load(
    bundle: str | Path, runtime: str = "auto", threads: int | None = None, format: str | None = None
) -> Predictor:
    """Open ``bundle`` for prediction.

    Args:
        bundle: Bundle folder written by ``lightship export``.
        runtime: ``auto`` (best verified artifact whose runtime is installed), ``onnxruntime``,
            ``openvino`` or ``torchscript``.
        threads: CPU threads for the runtime; None = the cores this process may use (same in every runtime).
        format: Pick an artifact by format name instead (e.g. ``onnx-int8``).

    Raises:
        BundleError: not a bundle, or a file does not match its manifest sha256 (the message names it).
    """
    return Predictor(bundle, runtime=runtime, threads=threads, format=format)
