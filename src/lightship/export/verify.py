"""Verification: every artifact, in its own runtime, against the model it was exported from.

Two rows of real images (:mod:`lightship.bundle.samples`) and one of noise:

- **model size**: the artifact's probabilities and top-1 against the eager model (reference.pt) on the
  same pixels; with labels, its accuracy against the eager model's (overall and per class);
- **off size**: each image goes through the *training data path* (the pipeline's resize and rounding to
  uint8, then the model at its size: what the model was trained and evaluated on) and through the artifact,
  which resizes inside; the artifact's ``pixels`` output (its network input) and its answers are compared;
- **robustness**: noise batches of odd shapes (non-square, 1 x 5): the artifact must run and give finite
  probabilities; their figures are reported apart and never enter the gates.

An artifact with a largest input (``max_input``: LiteRT, ExecuTorch, Core ML) is run only on the off-size
images and noise shapes within it (every runtime refuses larger ones by design); the off-size row records how
many it left out (``over_max_input``). An artifact whose runtime cannot run on this platform at all (Core ML
off Apple systems) is recorded as not run, with the reason, never as passed.

The gates themselves are the table in :mod:`lightship.export.gates`, chosen by the format's ``gate`` kind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lightship.bundle.integrity import check_files, manifest_records
from lightship.bundle.manifest import read_manifest, write_manifest
from lightship.bundle.reference import load_reference
from lightship.bundle.samples import SampleSet, load_samples, verification_samples
from lightship.bundle.verification import ArtifactCheck, VerifyReport, record_verification
from lightship.console import track
from lightship.data.config import DataConfig
from lightship.data.decode import resize_images
from lightship.errors import BundleError
from lightship.export.formats import FORMATS
from lightship.export.gates import MIN_CLASS_SAMPLES, MIN_LABELLED, TIE_TOLERANCE, gate_table, judge
from lightship.models import InferenceWrapper
from lightship.runtime.backends import RUNTIMES, Backend, open_backend, resolve_threads, unavailable_reason
from lightship.tables import load_target

BATCH_SIZE = 64


def _batches(images: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(images[i : i + BATCH_SIZE]) for i in range(0, len(images), BATCH_SIZE)]


def _noise(size: int, bound: dict[str, int] | None = None) -> list[np.ndarray]:
    """A non-square and a tiny batch; within an artifact's ``max_input`` bound when it has one."""
    height, width = size + 7, 2 * size + 3
    if bound is not None:
        height, width = min(height, bound["height"]), min(width, bound["width"])
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (3, height, width, 3), dtype=np.uint8),
        rng.integers(0, 256, (1, 1, 5, 3), dtype=np.uint8),
    ]


@torch.inference_mode()
def _eager(wrapper: InferenceWrapper, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probs, pixels) of the eager model."""
    probs, _, pixels = wrapper(torch.from_numpy(batch))
    return probs.numpy(), pixels.numpy()


@dataclass
class Reference:
    """The eager model's answers on the model-size row, the training data path's on the off-size row
    (probabilities and network input), and the eager answers on the noise batches."""

    probs: np.ndarray
    off_probs: np.ndarray
    off_pixels: np.ndarray
    wrapper: InferenceWrapper
    _noise: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)

    def noise(self, bound: dict[str, int] | None) -> list[tuple[np.ndarray, np.ndarray]]:
        """The noise batches within ``bound`` (an artifact's ``max_input``) and the eager answers on them."""
        batches = _noise(self.wrapper.classifier.preprocess.image_size, bound)
        for batch in batches:
            if batch.shape not in self._noise:
                self._noise[batch.shape] = _eager(self.wrapper, batch)[0]
        return [(batch, self._noise[batch.shape]) for batch in batches]


def reference_outputs(wrapper: InferenceWrapper, samples: SampleSet) -> Reference:
    size, mode = wrapper.classifier.preprocess.image_size, wrapper.classifier.preprocess.resize_mode
    probs = np.concatenate([_eager(wrapper, batch)[0] for batch in _batches(samples.model_size.images)])
    off = [
        _eager(wrapper, resize_images(samples.off_size.image(i)[None], size, mode))
        for i in range(len(samples.off_size))
    ]
    off_probs = np.concatenate([p for p, _ in off]) if off else np.zeros((0, probs.shape[1]), np.float32)
    off_pixels = np.concatenate([x for _, x in off]) if off else np.zeros((0, 3, size, size), np.float32)
    return Reference(probs, off_probs, off_pixels, wrapper)


def _agreement(reference: np.ndarray, probs: np.ndarray) -> float:
    """Share of images whose top-1 is the reference's, counting numerical ties (within TIE_TOLERANCE)."""
    if len(probs) == 0:
        return float("nan")
    chosen = reference[np.arange(len(probs)), probs.argmax(1)]
    return float((chosen >= reference.max(1) - TIE_TOLERANCE).mean())


def _pixel_figures(reference: np.ndarray, pixels: list[np.ndarray] | None) -> dict[str, Any]:
    if pixels is None:
        why = "the artifact has no `pixels` output (exported before lightship recorded its network input)"
        return {"pixels_max_diff_missing": why, "pixels_differing_missing": why}
    delta = np.abs(np.concatenate(pixels) - reference) if pixels else np.zeros(0)
    return {
        "pixels_max_diff": float(delta.max()) if delta.size else 0.0,
        "pixels_differing": float((delta > 0).mean()) if delta.size else 0.0,
    }


def _accuracy_figures(samples: SampleSet, reference: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy (percent) of eager and artifact on labelled originals, and the drops the int8 gates read."""
    rows = samples.model_size
    if rows.labels is None:
        why = "the verification images have no labels"
        return {"accuracy_drop_missing": why, "worst_class_accuracy_drop_missing": why}
    keep = rows.original
    labels = rows.labels[keep]
    right_ref = reference[keep].argmax(1) == labels
    right = probs[keep].argmax(1) == labels
    figures: dict[str, Any] = {"labelled_originals": int(keep.sum()), "accuracy": float(right.mean() * 100)}
    if keep.sum() >= MIN_LABELLED:
        figures["accuracy_drop"] = float((right_ref.mean() - right.mean()) * 100)
    drops = {
        int(c): float((right_ref[labels == c].mean() - right[labels == c].mean()) * 100)
        for c, n in zip(*np.unique(labels, return_counts=True), strict=True)
        if n >= MIN_CLASS_SAMPLES
    }
    if drops:
        worst = max(drops, key=drops.get)
        figures["worst_class_accuracy_drop"] = drops[worst]
        figures["worst_class"] = samples.class_names[worst] if samples.class_names else str(worst)
    return figures


def _quantized_layers(artifact: dict[str, Any], path: Path) -> dict[str, Any]:
    row = FORMATS.get(artifact["format"])
    if row is None or row.quantized_layers is None:
        return {"quantized_layers_missing": f"format {artifact['format']!r} has no layer counter"}
    quantized, total = load_target(row.quantized_layers)(path)
    return {"quantized_layers": quantized, "layers": total}


def _within(shape: tuple[int, ...], bound: dict[str, int] | None) -> bool:
    return bound is None or (shape[0] <= bound["height"] and shape[1] <= bound["width"])


def _run_all(
    backend: Backend, samples: SampleSet, reference: Reference, bound: dict[str, int] | None = None
) -> tuple[dict[str, dict], float]:
    """Figures of the three rows (model size, off size, noise) and the latency on the model-size row;
    ``bound`` is the artifact's ``max_input`` (off-size images and noise larger than it are not run)."""
    images = samples.model_size.images
    backend.run(images[:1])  # warm-up: first-call allocation and kernel selection are not latency
    start = time.perf_counter()
    outputs = [backend.run(batch) for batch in _batches(images)]
    latency_ms = (time.perf_counter() - start) * 1000.0 / len(images)
    probs = np.concatenate([out[0] for out in outputs])
    model_size = {
        "images": len(images),
        "top1_agreement": _agreement(reference.probs, probs),
        "max_abs_prob_diff": float(np.abs(probs - reference.probs).max()),
        **_accuracy_figures(samples, reference.probs, probs),
    }
    rows = [i for i in range(len(samples.off_size)) if _within(samples.off_size.shape(i), bound)]
    off = [backend.run(samples.off_size.image(i)[None]) for i in rows]
    off_size: dict[str, Any] = {"images": len(off)}
    if len(rows) < len(samples.off_size):
        off_size["over_max_input"] = len(samples.off_size) - len(rows)
    if off:
        off_probs = np.concatenate([out[0] for out in off])
        pixels = [out[2] for out in off] if all(len(out) > 2 for out in off) else None
        off_size |= {
            "top1_agreement": _agreement(reference.off_probs[rows], off_probs),
            "max_abs_prob_diff": float(np.abs(off_probs - reference.off_probs[rows]).max()),
            **_pixel_figures(reference.off_pixels[rows], pixels),
        }
    noise_diff, finite = 0.0, True
    noise_batches = reference.noise(bound)
    for batch, expected in noise_batches:
        got = backend.run(batch)[0]
        finite = finite and bool(np.isfinite(got).all())
        noise_diff = max(noise_diff, float(np.abs(got - expected).max()))
    noise = {
        "images": sum(len(b) for b, _ in noise_batches),
        "finite": finite,
        "max_abs_prob_diff": noise_diff,
    }
    return {"model_size": model_size, "off_size": off_size, "robustness": noise}, latency_ms


def check_artifact(
    artifact: dict[str, Any], backend: Backend, samples: SampleSet, reference: Reference, path: Path
) -> ArtifactCheck:
    """Run ``backend`` (the artifact at ``path``) on every row and apply the gates of its kind."""
    kind = artifact.get("gate") or artifact["precision"]
    torch_kernels = RUNTIMES[artifact["runtime"]].torch_kernels
    head = (artifact["format"], artifact["runtime"], artifact["precision"], kind)
    try:
        figures, latency = _run_all(backend, samples, reference, artifact.get("max_input"))
    except Exception as exc:  # any runtime's error: the artifact fails, the others are still checked
        failure = f"the artifact does not run: {type(exc).__name__}: {str(exc)[:300]}"
        return ArtifactCheck(*head, {}, [], False, [failure])
    figures["artifact"] = _quantized_layers(artifact, path) if kind == "int8" else {}
    results = [r.to_dict() for r in judge(kind, figures, torch_kernels)]
    failures = [f"{r['gate']}: {r['note']}" for r in results if r["passed"] is False]
    if not figures["robustness"]["finite"]:
        failures.append("robustness: non-finite probabilities on noise images of odd shapes")
    return ArtifactCheck(*head, figures, results, not failures, failures, latency)


def _not_run(artifact: dict[str, Any], reason: str) -> ArtifactCheck:
    """The record of an artifact this platform cannot run: no figures, ``passed`` None, the reason."""
    if "checked" in artifact.get("versions", {}):
        reason = f"{reason}; its spec was checked at export (versions.checked)"
    kind = artifact.get("gate") or artifact["precision"]
    return ArtifactCheck(
        artifact["format"], artifact["runtime"], artifact["precision"], kind, {}, [], None, note=reason
    )


def _samples(root: Path, manifest: dict[str, Any], data: DataConfig | SampleSet | None, n: int) -> SampleSet:
    if isinstance(data, SampleSet):
        return data
    if isinstance(data, DataConfig):
        return verification_samples(data, n, manifest["input"]["image_size"])
    files = manifest["samples"]["files"]
    if not files:
        raise BundleError(
            f"{root} keeps no sample images (exported with --samples none): pass the data to verify on, "
            "e.g. --data.source imagefolder --data.root FOLDER"
        )
    return load_samples(root / files[0]["path"])


def verify_bundle(
    bundle: str | Path,
    data: DataConfig | SampleSet | None = None,
    n: int = 1000,
    threads: int | None = None,
    record: bool = False,
) -> VerifyReport:
    """Verify every artifact of ``bundle`` on ``data`` (``n`` stratified test images; default: the bundle's
    samples). Every file of the manifest is checked against its sha256 first, so a tampered bundle is never
    compared. With ``record`` the results replace the manifest's (atomically).
    """
    root = Path(bundle)
    manifest = read_manifest(root)
    check_files(root, manifest_records(manifest))
    threads = resolve_threads(threads)
    wrapper = InferenceWrapper(load_reference(root / manifest["reference"]["files"][0]["path"]))
    samples = _samples(root, manifest, data, n)
    reference = reference_outputs(wrapper, samples)
    checks = []
    for artifact in track(manifest["artifacts"], "verify", lambda a: a["format"]):
        reason = unavailable_reason(artifact["runtime"])
        if reason is not None:
            checks.append(_not_run(artifact, reason))
            continue
        path = root / artifact["file"]
        backend = open_backend(artifact["runtime"], path, threads, artifact)
        checks.append(check_artifact(artifact, backend, samples, reference, path))
    rows = samples.model_size
    accuracy = None
    if rows.labels is not None and rows.original.any():
        accuracy = float(
            (reference.probs[rows.original].argmax(1) == rows.labels[rows.original]).mean() * 100
        )
    report = VerifyReport(samples.describe(), threads, {"accuracy": accuracy}, checks, gate_table())
    if record:
        record_verification(manifest, report)
        write_manifest(root, manifest)
    return report
