"""``export_bundle``: write every requested artifact, verify it, and publish the bundle atomically.

The bundle is built in a hidden folder beside the target (:func:`lightship.files.staging_dir`) and
renamed into place at the end, with ``manifest.json`` written last inside it, so a crash never leaves
something that looks like a bundle. What the files mean is :mod:`lightship.bundle`'s; see docs/bundle.md.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from lightship.bundle.integrity import file_record
from lightship.bundle.manifest import new_manifest, write_manifest
from lightship.bundle.reference import REFERENCE_NAME, save_reference
from lightship.bundle.samples import SAMPLES_NAME, save_samples, select_images
from lightship.bundle.verification import VerifyReport, record_verification
from lightship.data.config import DataConfig
from lightship.errors import BundleError
from lightship.export.formats import FORMATS, Artifact, ExportContext
from lightship.export.verify import verify_bundle
from lightship.files import publish_dir, staging_dir
from lightship.models import Classifier, InferenceWrapper, ModelMeta

DEFAULT_FORMATS = ("torchscript", "onnx", "onnx-int8")


def _artifact_entry(root: Path, name: str, artifact: Artifact) -> dict[str, Any]:
    fmt = FORMATS[name]
    return {
        "format": name,
        "runtime": fmt.runtime,
        "precision": fmt.precision,
        "file": artifact.main.relative_to(root).as_posix(),
        "versions": artifact.versions,
        "files": [file_record(root, f) for f in artifact.files],
    }


def _ordered_formats(formats: Sequence[str]) -> list[str]:
    """``formats`` in the table's order (the preference of ``runtime="auto"``), checked before any work:
    unknown names and missing optional dependencies fail here."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise BundleError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    for name in formats:
        FORMATS[name].check_installed()
    return [name for name in FORMATS if name in formats]


def _exists(out: Path) -> BundleError:
    return BundleError(f"{out} already exists; pass --overwrite true or choose another --out")


def export_bundle(
    classifier: Classifier,
    meta: ModelMeta,
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
    """Export ``classifier`` (described by ``meta``) into the bundle folder ``out``.

    Calibration (int8) uses ``calibration_size`` train images of ``data`` and verification ``verify_n``
    test images; without ``data`` both are synthetic (see :mod:`lightship.bundle.samples`). The bundle is
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
    kept = check_images.head(keep_samples)
    with staging_dir(out) as tmp:
        wrapper = InferenceWrapper(copy.deepcopy(classifier).cpu())
        save_reference(wrapper.classifier, meta, tmp / REFERENCE_NAME)
        save_samples(kept, tmp / SAMPLES_NAME)
        example = torch.from_numpy(calibration[:2].copy())
        # Intermediate files live in the staging folder: on the bundle's disk, and removed with it on failure.
        scratch = tmp / ".scratch"
        scratch.mkdir()
        ctx = ExportContext(wrapper, example, scratch, calibration, opset)
        artifacts = {name: FORMATS.load(name)(ctx, tmp / FORMATS[name].file) for name in names}
        shutil.rmtree(scratch)
        manifest = new_manifest(
            meta,
            reference=file_record(tmp, tmp / REFERENCE_NAME),
            samples=kept,
            samples_file=file_record(tmp, tmp / SAMPLES_NAME),
            artifacts=[_artifact_entry(tmp, name, a) for name, a in artifacts.items()],
            runtime_preference=names,
        )
        write_manifest(tmp, manifest)
        report = None
        if verify:
            report = verify_bundle(tmp, check_images, n=verify_n, threads=threads)
            record_verification(manifest, report)
            write_manifest(tmp, manifest)
        try:
            publish_dir(tmp, out, replace=overwrite)
        except FileExistsError as exc:  # created by someone else while this export ran
            raise _exists(out) from exc
    return out, report
