"""The Predictor: load a bundle once, then classify files, bytes, PIL images or arrays in any runtime.

Images are decoded by the one policy (:func:`lightship.images.decode_image`) and passed as raw uint8
pixels; resizing and normalisation happen inside the artifact. Images of the same size are batched
together, so a mixed list costs one call per distinct size (per ``batch_size`` chunk).

An artifact that failed verification, was never verified, or comes from a bundle written before the gate
table is refused, naming it and its gate (:func:`lightship.bundle.verification.unverified_reason`), unless
``allow_unverified=True`` (``--allow-unverified``): then every prediction carries that reason in
``unverified``, so the override can never go unnoticed downstream.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lightship.bundle.integrity import MANIFEST_NAME, check_files
from lightship.bundle.manifest import find_artifact, preferred_artifacts, read_manifest
from lightship.bundle.verification import unverified_reason
from lightship.errors import BundleError, LightshipError, MissingExtraError
from lightship.images import ImageInput, decode_image
from lightship.runtime.backends import RUNTIMES, Backend, check_device, open_backend, resolve_threads


@dataclass
class Prediction:
    """One image's result: best label and score, the ``top_k`` (label, prob) pairs, all probabilities."""

    label: str
    score: float
    top_k: list[tuple[str, float]]
    probs: np.ndarray
    unverified: str | None = None
    """Set when the artifact was used despite failing or lacking verification (``allow_unverified``)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "score": self.score,
            "top_k": [{"label": label, "score": score} for label, score in self.top_k],
        }
        if self.unverified is not None:
            out["unverified"] = self.unverified
        return out


def top_classes(probs: np.ndarray, labels: list[str], k: int) -> list[tuple[str, float]]:
    """The ``k`` (at least 1, at most all) best ``(label, probability)`` pairs, best first; ties keep class
    order (a stable sort), as the web app and the Node runner do."""
    order = np.argsort(-probs, kind="stable")[: max(1, min(k, len(labels)))]
    return [(labels[i], float(probs[i])) for i in order]


def artifact_candidates(
    manifest: dict[str, Any], runtime: str, format: str | None = None, device: str = "cpu"
) -> list[dict[str, Any]]:
    """The artifacts to consider, in the bundle's preference order.

    ``format`` given: that artifact. ``auto``: every artifact whose runtime takes ``device`` and can run on
    this platform (the Predictor takes the first verified one whose runtime is installed, and refuses failed
    or unverified ones unless allowed). A runtime name (``onnxruntime``): the artifacts in that runtime
    (artifacts the preference leaves out, such as Core ML's, count then: asked for by name). A format name
    (``onnx``, ``onnx-int8``): that format's artifact, in its own runtime. Any other name is an error
    listing them all.
    """
    if format:
        return [find_artifact(manifest, format)]
    ordered = preferred_artifacts(manifest)
    if runtime == "auto":
        return [
            a
            for a in ordered
            if device in RUNTIMES[a["runtime"]].devices
            and RUNTIMES[a["runtime"]].unavailable_reason(a["runtime"]) is None
        ]
    ordered += [a for a in manifest["artifacts"] if a not in ordered]
    if runtime in RUNTIMES:
        return [a for a in ordered if a["runtime"] == runtime]
    by_format = [a for a in ordered if a["format"] == runtime]
    if by_format:
        return by_format
    formats = ", ".join(a["format"] for a in ordered)
    raise LightshipError(
        f"unknown runtime {runtime!r}; choose auto, a runtime ({', '.join(RUNTIMES)}) or one of this "
        f"bundle's formats ({formats})"
    )


class Predictor:
    """A loaded bundle artifact. Use :func:`load` to make one."""

    def __init__(
        self,
        bundle: str | Path,
        runtime: str = "auto",
        threads: int | None = None,
        format: str | None = None,
        allow_unverified: bool = False,
        device: str = "cpu",
    ) -> None:
        self.root = Path(bundle)
        self.manifest = read_manifest(self.root)
        self.labels: list[str] = list(self.manifest["labels"])
        self.threads = resolve_threads(threads)
        check_device(device)
        self.device = device
        artifacts = artifact_candidates(self.manifest, runtime, format, device)
        if not artifacts:
            have = ", ".join(f"{a['format']} ({a['runtime']})" for a in self.manifest["artifacts"])
            raise BundleError(
                f"{self.root} has no usable artifact for runtime {runtime!r} on {device!r}; it has {have}. "
                "Export one with `lightship export RUN --formats ...`, or choose one of those"
            )
        reasons = {a["format"]: unverified_reason(self.manifest, a, str(self.root)) for a in artifacts}
        verified = [a for a in artifacts if reasons[a["format"]] is None]
        if not verified and not allow_unverified:
            raise BundleError(
                f"{self.root}: refusing to use an unverified artifact: "
                + " | ".join(reasons[a["format"]] for a in artifacts)
                + ". Re-export or re-verify it, or pass --allow-unverified (allow_unverified=True) to use it anyway"
            )
        self.backend, self.artifact = self._open_first(verified or artifacts)
        self.format: str = self.artifact["format"]
        self.runtime: str = self.artifact["runtime"]
        #: Why the loaded artifact is not verified (None when it is): reported with every prediction.
        self.unverified: str | None = reasons[self.format]

    def _open_first(self, artifacts: list[dict[str, Any]]) -> tuple[Backend, dict[str, Any]]:
        """The first artifact whose runtime is installed; the manifest's files are checked before loading:
        the artifact's own and the proof's (reference model and samples), so a bundle whose evidence was
        altered is refused like one whose model was."""
        missing: list[str] = []
        proof = self.manifest["reference"]["files"] + self.manifest["samples"]["files"]
        for artifact in artifacts:
            check_files(self.root, artifact["files"] + proof)
            try:
                path = self.root / artifact["file"]
                return open_backend(artifact["runtime"], path, self.threads, artifact, self.device), artifact
            except MissingExtraError as exc:
                missing.append(str(exc))
        raise MissingExtraError("; ".join(missing))

    def run(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for a ``uint8 N x H x W x 3`` batch of same-size images."""
        return self.backend.run(np.ascontiguousarray(images, dtype=np.uint8))[0]

    def predict_scores(
        self, images: Sequence[ImageInput], batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        """``N x num_classes`` probabilities and logits; same-size images run together, ``batch_size`` at a
        time."""
        arrays = [decode_image(image) for image in images]
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, array in enumerate(arrays):
            groups[array.shape].append(index)
        probs = np.zeros((len(arrays), len(self.labels)), dtype=np.float32)
        logits = np.zeros_like(probs)
        for indices in groups.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                outputs = self.backend.run(np.ascontiguousarray(np.stack([arrays[i] for i in chunk])))
                probs[chunk], logits[chunk] = outputs[0], outputs[1]
        return probs, logits

    def predict_probs(self, images: Sequence[ImageInput], batch_size: int = 32) -> np.ndarray:
        """``N x num_classes`` probabilities (see :meth:`predict_scores`)."""
        return self.predict_scores(images, batch_size)[0]

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
            results.append(Prediction(top[0][0], top[0][1], top, probs, self.unverified))
        return results[0] if single else results


class EagerPredictor(Predictor):
    """The trained model of a run folder or ``.ckpt``, in PyTorch: the same predictions as its bundle
    (the bundle's artifacts are verified against exactly this model), only slower and needing torch."""

    def __init__(self, run_or_checkpoint: str | Path, threads: int | None = None) -> None:
        from lightship.runtime.eager import EagerBackend
        from lightship.training.checkpoint import load_trained

        trained = load_trained(run_or_checkpoint)
        self.root = Path(run_or_checkpoint)
        self.manifest = None
        self.labels = list(trained.meta.class_names)
        self.threads = resolve_threads(threads)
        self.backend = EagerBackend(trained.classifier, self.threads)
        self.artifact = {"format": "eager", "runtime": "pytorch", "file": str(trained.checkpoint)}
        self.format, self.runtime = "eager", "pytorch"
        self.unverified = None  # the trained model itself: what every artifact is verified against


#: What ``runtime`` may say to use the trained model itself (a run folder or checkpoint, not a bundle).
EAGER_RUNTIMES = ("auto", "pytorch", "eager")


def is_bundle(path: str | Path) -> bool:
    return (Path(path) / MANIFEST_NAME).is_file()


def is_trained_model(path: str | Path) -> bool:
    """A run folder (its config or checkpoints) or a ``.ckpt`` file: what ``EagerPredictor`` opens."""
    from lightship.training.runfolder import CHECKPOINT_SUFFIX, RunFolder  # torch only off the bundle path

    path = Path(path)
    return path.suffix == CHECKPOINT_SUFFIX if path.is_file() else RunFolder(path).is_run()


def load(
    bundle: str | Path,
    runtime: str = "auto",
    threads: int | None = None,
    format: str | None = None,
    allow_unverified: bool = False,
    device: str = "cpu",
) -> Predictor:
    """Open ``bundle`` for prediction (or, given a run folder or ``.ckpt``, its trained model in PyTorch).

    Args:
        bundle: Bundle folder written by ``lightship export``; or a run folder / ``.ckpt`` of ``lightship
            train``, which runs the eager PyTorch model on the CPU (slower; export it for deployment).
        runtime: ``auto`` (best verified artifact whose runtime is installed), a row of
            :data:`lightship.runtime.backends.RUNTIMES` (``onnxruntime``, ``openvino``, ``torchscript``,
            ``aoti`` (pt2), ``executorch``, ``litert`` (tflite) or ``coreml`` (Apple systems only): its best
            verified artifact) or one of the bundle's format names (``onnx``, ``onnx-int8``).
        threads: CPU threads for the runtime; None = the cores this process may use (same in every runtime).
        format: Pick an artifact by format name instead (e.g. ``onnx-int8``).
        allow_unverified: Use an artifact that failed or lacks verification anyway; every prediction then
            says so (``Prediction.unverified``).
        device: ``cpu``, or ``cuda``: ONNX Runtime's CUDA provider (needs onnxruntime-gpu and an NVIDIA GPU;
            ``auto`` then picks among the ONNX artifacts; ``format="onnx-fp16"`` picks fp16).

    Raises:
        BundleError: not a bundle, a file does not match its manifest sha256 (the message names it), or
            the artifact is unverified (the message names it and its gate).
        DeviceUnavailableError: ``device="cuda"`` without onnxruntime-gpu or without a usable GPU.
    """
    if not is_bundle(bundle) and is_trained_model(bundle) and format is None:
        if runtime not in EAGER_RUNTIMES or device != "cpu":
            raise BundleError(
                f"{bundle} is a trained model, not a bundle, so it runs in PyTorch on the CPU only (--runtime "
                f"auto, --device cpu); for --runtime {runtime} or --device {device} export it first: "
                f"lightship export {bundle}"
            )
        return EagerPredictor(bundle, threads=threads)
    return Predictor(
        bundle,
        runtime=runtime,
        threads=threads,
        format=format,
        allow_unverified=allow_unverified,
        device=device,
    )
