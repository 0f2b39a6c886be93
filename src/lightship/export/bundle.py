"""``export_bundle``: write every requested artifact, verify it, and publish the bundle atomically.

All files are written into a hidden temp folder next to the target and renamed into place at the end,
and ``manifest.json`` is written last inside it, so a crash never leaves something that looks like a
bundle. See ``docs/bundle.md`` for the format.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..data.config import DataConfig
from ..errors import BundleError
from ..files import publish_dir, staging_dir, write_json
from ..models import Classifier
from ..runtime.extras import require
from ..runtime.manifest import MANIFEST_NAME, SCHEMA_VERSION, file_record
from .formats import Artifact, ExportContext, exporter, format_names
from .reference import REFERENCE_NAME, save_reference
from .samples import SAMPLES_NAME, ImageSet, save_samples, select_images
from .verify import VerifyReport, verify_bundle
from .wrapper import InferenceWrapper

DEFAULT_FORMATS = ("torchscript", "onnx", "onnx-int8")
RESIZE_POLICY = (
    "inside the model: float NCHW resized to image_size x image_size, bilinear, antialias=True, "
    "align_corners=False, aspect ratio not kept (lightship.models.classifier.resize_to)"
)
DECODE_POLICY = (
    "outside the model, by the caller (lightship.images.decode_image): any Pillow format, EXIF "
    "orientation applied, grayscale/palette/CMYK/16-bit to 8-bit RGB, alpha dropped (not "
    "composited), GIF first frame; result uint8 H x W x 3"
)


def _input_spec(meta: Any) -> dict[str, Any]:
    return {
        "name": "images",
        "dtype": "uint8",
        "layout": "NHWC",
        "channels": "RGB",
        "shape": ["batch", "height", "width", 3],
        "dynamic": ["batch", "height", "width"],
        "image_size": meta.image_size,
        "resize": RESIZE_POLICY,
        "decode": DECODE_POLICY,
    }


def _outputs(meta: Any) -> list[dict[str, Any]]:
    return [
        {"name": name, "dtype": "float32", "shape": ["batch", meta.num_classes], "meaning": meaning}
        for name, meaning in (("probs", "softmax of logits"), ("logits", "raw scores"))
    ]


def _artifact_entry(root: Path, name: str, artifact: Artifact) -> dict[str, Any]:
    fmt, _ = exporter(name)
    return {
        "format": name,
        "runtime": fmt.runtime,
        "precision": fmt.precision,
        "file": artifact.main.relative_to(root).as_posix(),
        "versions": artifact.versions,
        "files": [file_record(root, f) for f in artifact.files],
    }


def _manifest(root: Path, meta: Any, samples: ImageSet, artifacts: dict[str, Artifact]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "lightship_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": meta.model, "num_classes": meta.num_classes, "model_kwargs": meta.model_kwargs},
        "labels": list(meta.class_names),
        "input": _input_spec(meta),
        "outputs": _outputs(meta),
        "normalization": {
            "mean": list(meta.mean),
            "std": list(meta.std),
            "note": "for pixels scaled to 0..1; applied inside the model",
        },
        "reference": {
            "files": [file_record(root, root / REFERENCE_NAME)],
            "note": "state_dict + ModelMeta of the eager model, torch.load(weights_only=True)",
        },
        "samples": {
            "files": [file_record(root, root / SAMPLES_NAME)],
            "source": samples.source,
            "count": len(samples.images),
            "labelled": samples.labels is not None,
        },
        "artifacts": [_artifact_entry(root, name, a) for name, a in artifacts.items()],
    }


def _ordered_formats(formats: Sequence[str]) -> list[str]:
    unknown = sorted(set(formats) - set(format_names()))
    if unknown:
        raise BundleError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(format_names())}")
    for name in formats:  # fail before any work when an optional extra is missing
        fmt, _ = exporter(name)
        if fmt.extra is not None:
            require(fmt.extra, fmt.extra)
    return [name for name in format_names() if name in formats]


def _exists(out: Path) -> BundleError:
    return BundleError(f"{out} already exists; pass --overwrite true or choose another --out")


def export_bundle(
    classifier: Classifier,
    meta: Any,
    out: str | Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    data: DataConfig | None = None,
    calibration_size: int = 256,
    verify: bool = True,
    verify_n: int = 1000,
    keep_samples: int = 256,
    opset: int = 20,  # 20 has a native Gelu: ~20% lower ONNX Runtime latency than its Erf expansion in 18
    threads: int | None = None,
    overwrite: bool = False,
) -> tuple[Path, VerifyReport | None]:
    """Export ``classifier`` (described by ``meta``, a ModelMeta) into the bundle folder ``out``.

    Calibration (int8) uses ``calibration_size`` train images of ``data`` and verification ``verify_n``
    test images; without ``data`` both are synthetic (see :mod:`lightship.export.samples`). The bundle is
    written even when a verification threshold fails (the manifest records it; inspect, don't ship);
    the returned report says so.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise _exists(out)
    names = _ordered_formats(formats)
    size = meta.image_size
    calibration = select_images(data, "train", calibration_size, size, seed=1).images
    check_images = select_images(data, "test", verify_n, size, seed=0)
    with staging_dir(out) as tmp:
        wrapper = InferenceWrapper(copy.deepcopy(classifier).cpu())
        save_reference(wrapper.classifier, meta, tmp / REFERENCE_NAME)
        save_samples(check_images.head(keep_samples), tmp / SAMPLES_NAME)
        example = torch.from_numpy(calibration[:2].copy())
        artifacts: dict[str, Artifact] = {}
        with tempfile.TemporaryDirectory(prefix="lightship-export-") as scratch:
            ctx = ExportContext(wrapper, example, tmp, Path(scratch), calibration, opset)
            for name in names:
                artifacts[name] = exporter(name)[1](ctx)
        manifest = _manifest(tmp, meta, check_images.head(keep_samples), artifacts)
        write_json(tmp / MANIFEST_NAME, manifest)
        report = None
        if verify:
            report = verify_bundle(tmp, check_images, n=verify_n, threads=threads)
            for entry, check in zip(manifest["artifacts"], report.to_dict()["artifacts"], strict=True):
                entry["verification"] = check
            manifest["verification"] = {k: v for k, v in report.to_dict().items() if k != "artifacts"}
            write_json(tmp / MANIFEST_NAME, manifest)
        try:
            publish_dir(tmp, out, replace=overwrite)
        except FileExistsError as exc:  # created by someone else while this export ran
            raise _exists(out) from exc
    return out, report
