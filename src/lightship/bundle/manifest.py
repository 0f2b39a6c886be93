"""``manifest.json``: the schema every bundle writer and reader shares (format in ``docs/bundle.md``).

Schema 2 added two choices that readers in every language used to hard-code: ``runtime_preference`` (the
format order ``runtime="auto"`` tries) and ``limits`` (the largest image and the file extensions every
surface accepts). Schema 3 (written now) adds the proof: the ``pixels`` output, the gate table and the
rows of images each artifact was verified on (``verification``), the samples' per-class counts, the
calibration (temperature) inside the artifacts, and ``left_out`` (default formats that failed their gates).
Every file path must stay inside the bundle and every artifact's ``file`` must be among its hashed ``files``.
Readers accept schemas 1 and 2 too: such a bundle loads, with a warning saying what it lacks, and its
artifacts count as unverified (:func:`lightship.bundle.verification.unverified_reason`). Fields a reader
does not know are ignored, so later additions do not break older readers of the same schema. Optional
fields: an artifact's ``max_input`` (``{height, width}``: the largest image it takes; every runtime refuses
larger ones), top-level ``skipped_formats`` (what ``--formats all`` left out and why: missing optional
dependencies), and a verification record's ``note`` (why it could not run here, e.g. Core ML off Apple
systems).

This module imports neither torch nor any runtime: ``lightship.load`` on a deployment machine reads
manifests without them.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightship import __version__
from lightship.bundle.integrity import MANIFEST_NAME, confined_path
from lightship.errors import BundleError
from lightship.files import write_json
from lightship.images import IMAGE_EXTENSIONS, MAX_PIXELS

if TYPE_CHECKING:
    from lightship.models import ModelMeta

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
#: The order ``runtime="auto"`` tried formats in before manifests recorded it (schema 1).
SCHEMA1_PREFERENCE = ("onnx", "openvino", "torchscript", "onnx-int8")
#: Rounding after either resize: the uint8 levels the training data pipeline stores.
_LEVELS = (
    "then rounded to uint8 levels ((x + 1/256).round(), clamped to 0..255) exactly as the training data "
    "pipeline stores it (lightship.models.classifier.resize_levels)"
)
#: What ``input.resize`` says for each resize mode (``input.resize_mode``); both happen inside the model.
RESIZE_POLICIES = {
    "squash": (
        "inside the model: float NCHW resized to image_size x image_size, bilinear, antialias=True, "
        f"align_corners=False, aspect ratio not kept, {_LEVELS}"
    ),
    "crop": (
        "inside the model: the centred square of side min(height, width) (offsets floor((H-side)/2), "
        "floor((W-side)/2)), then resized to image_size x image_size, bilinear, antialias=True, "
        f"align_corners=False: aspect ratio kept, {_LEVELS}"
    ),
}
DECODE_POLICY = (
    "outside the model, by the caller (lightship.images.decode_image): any Pillow format, EXIF "
    "orientation applied, grayscale/palette/CMYK/16-bit to 8-bit RGB, alpha dropped (not "
    "composited), GIF first frame; result uint8 H x W x 3"
)

#: Bundles already warned about in this process (one warning per bundle, not one per read).
_warned: set[Path] = set()


def image_limits() -> dict[str, Any]:
    """The input limits of this lightship, as schema 2 records them (from :mod:`lightship.images`)."""
    return {"max_pixels": MAX_PIXELS, "image_extensions": sorted(IMAGE_EXTENSIONS)}


def new_manifest(
    meta: ModelMeta,
    reference: dict[str, Any],
    samples: dict[str, Any],
    artifacts: list[dict[str, Any]],
    runtime_preference: list[str],
    calibration: dict[str, Any],
    skipped_formats: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A schema-3 manifest for the model ``meta`` describes, before verification is recorded.

    ``reference`` is the file record of ``reference.pt``; ``samples`` describes the images the bundle was
    calibrated and verified on and holds the file records of what it keeps (``files``, empty with
    ``--samples none``); ``artifacts`` has one entry per artifact (format, runtime, precision, gate, file,
    files, versions, and ``max_input`` where the artifact has a largest input); ``runtime_preference``
    names the formats in the order ``runtime="auto"`` tries them; ``calibration`` is the temperature
    inside every artifact and how it was fitted; ``skipped_formats`` the formats an ``--formats all``
    export left out, with why (missing optional dependencies).
    """
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "lightship_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "name": meta.model,
            "num_classes": meta.num_classes,
            "model_kwargs": meta.model_kwargs,
            "pretrained": meta.pretrained,
        },
        "labels": list(meta.class_names),
        "input": {
            "name": "images",
            "dtype": "uint8",
            "layout": "NHWC",
            "channels": "RGB",
            "shape": ["batch", "height", "width", 3],
            "dynamic": ["batch", "height", "width"],
            "image_size": meta.image_size,
            "resize_mode": meta.resize,
            "resize": RESIZE_POLICIES[meta.resize],
            "decode": DECODE_POLICY,
        },
        "outputs": [
            {
                "name": "probs",
                "dtype": "float32",
                "shape": ["batch", meta.num_classes],
                "meaning": f"softmax of logits / temperature (temperature {meta.temperature:g}, see calibration)",
            },
            {
                "name": "logits",
                "dtype": "float32",
                "shape": ["batch", meta.num_classes],
                "meaning": "raw scores",
            },
            {
                "name": "pixels",
                "dtype": "float32",
                "shape": ["batch", 3, meta.image_size, meta.image_size],
                "meaning": "the network's input before normalisation, in uint8 levels (verification, debugging)",
            },
        ],
        "calibration": calibration,
        "normalization": {
            "mean": list(meta.mean),
            "std": list(meta.std),
            "note": "for pixels scaled to 0..1; applied inside the model",
        },
        "reference": {
            "files": [reference],
            "note": "state_dict + ModelMeta of the eager model, torch.load(weights_only=True)",
        },
        "samples": samples,
        "artifacts": artifacts,
        "runtime_preference": list(runtime_preference),
        "limits": image_limits(),
    }
    if skipped_formats:
        manifest["skipped_formats"] = [{"format": k, "reason": v} for k, v in skipped_formats.items()]
    return manifest


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Write ``root/manifest.json`` atomically (written last: its presence marks a complete bundle)."""
    write_json(root / MANIFEST_NAME, manifest)


def read_manifest(bundle: str | Path) -> dict[str, Any]:
    """The parsed, validated manifest of ``bundle``; BundleError if the folder is not a (complete) bundle."""
    root = Path(bundle)
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise BundleError(
            f"bundle {root} does not exist or is not a folder; create one with `lightship export`"
        )
    if not path.is_file():
        raise BundleError(_not_a_bundle(root))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} is not readable JSON ({exc}); re-run `lightship export`") from exc
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if version not in READABLE_VERSIONS:
        raise BundleError(
            f"{path} has schema_version {version!r}; this lightship reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}. Re-export the bundle with this lightship version."
        )
    _validate(manifest, path)
    if version == 1:
        _warn_schema1(root)
    return manifest


def _not_a_bundle(root: Path) -> str:
    """Why ``root`` is no bundle, and where the bundle is: a run folder's is ``RUN/bundle`` once exported."""
    from lightship.training.runfolder import RunFolder  # only on this error path: Lightning is heavy

    run = RunFolder(root)
    if run.is_run():
        if (run.bundle / MANIFEST_NAME).is_file():
            return f"{root} is a run folder, not a bundle; its bundle is {run.bundle}"
        return f"{root} is a run folder, not a bundle; export it first: lightship export {root} (writes {run.bundle})"
    return (
        f"{root} has no {MANIFEST_NAME}, so it is not a bundle (an interrupted export never leaves one); "
        "run `lightship export RUN --out FOLDER` to make one"
    )


def _file_listed(artifact: dict[str, Any]) -> bool:
    """The artifact's main file is among its hashed files, or it is a package folder (Core ML's
    ``.mlpackage``) every one of whose files is listed under it."""
    paths = [str(record.get("path")) for record in artifact["files"]]
    return artifact["file"] in paths or (
        bool(paths) and all(p.startswith(artifact["file"] + "/") for p in paths)
    )


def _validate(manifest: dict[str, Any], path: Path) -> None:
    """BundleError naming the first field a reader relies on that is missing or of the wrong type."""
    problems = []
    if not _is_list_of(manifest.get("labels"), str):
        problems.append("labels must be a list of class names")
    if not isinstance(manifest.get("input"), dict) or not isinstance(
        manifest["input"].get("image_size"), int
    ):
        problems.append("input.image_size must be an integer")
    artifacts = manifest.get("artifacts")
    if not _is_list_of(artifacts, dict) or not all(_is_artifact(a) for a in artifacts):
        problems.append("artifacts must be a list of {format, runtime, precision, file, files}")
        artifacts = []
    records = [(f"artifact {a['format']!r}", r) for a in artifacts for r in a["files"]]
    for section in ("reference", "samples"):
        entry = manifest.get(section)
        if not isinstance(entry, dict) or not _is_list_of(entry.get("files"), dict):
            problems.append(f"{section}.files must be a list of file records")
        else:
            records += [(section, r) for r in entry["files"]]
    for owner, record in records:
        why = confined_path(record.get("path"))
        if why is not None:
            problems.append(
                f"{owner}: file path {record.get('path')!r} {why}: paths must stay inside the bundle"
            )
    for artifact in artifacts:
        if not _file_listed(artifact):
            problems.append(
                f"artifact {artifact['format']!r}: its file {artifact['file']!r} is not among its hashed files"
            )
    if manifest["schema_version"] >= 2:
        if not _is_list_of(manifest.get("runtime_preference"), str):
            problems.append("runtime_preference must be a list of format names")
        limits = manifest.get("limits")
        if not isinstance(limits, dict) or not isinstance(limits.get("max_pixels"), int):
            problems.append("limits.max_pixels must be an integer")
        elif not _is_list_of(limits.get("image_extensions"), str):
            problems.append("limits.image_extensions must be a list of file extensions")
    if problems:
        raise BundleError(
            f"{path} is not a valid manifest: {'; '.join(problems)}. Re-run `lightship export`."
        )


def _is_list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


def _is_artifact(entry: dict[str, Any]) -> bool:
    fields = ("format", "runtime", "precision", "file")
    return all(isinstance(entry.get(key), str) for key in fields) and _is_list_of(entry.get("files"), dict)


def _warn_schema1(root: Path) -> None:
    key = root.resolve()
    if key in _warned:
        return
    _warned.add(key)
    log.warning(
        "%s is a schema 1 bundle: its manifest has no runtime_preference and no limits, so the built-in "
        "order (%s) and this lightship's image limits are used; re-export it with this lightship to record them",
        root,
        ", ".join(SCHEMA1_PREFERENCE),
    )


def runtime_preference(manifest: dict[str, Any]) -> list[str]:
    """The format names in the order ``runtime="auto"`` tries them (schema 1: the built-in order)."""
    return list(manifest.get("runtime_preference", SCHEMA1_PREFERENCE))


def preferred_artifacts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's artifacts in preference order (those the preference does not name are left out)."""
    by_format = {artifact["format"]: artifact for artifact in manifest["artifacts"]}
    return [by_format[name] for name in runtime_preference(manifest) if name in by_format]


def image_limits_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The bundle's input limits (schema 1: this lightship's)."""
    return dict(manifest.get("limits") or image_limits())


def find_artifact(manifest: dict[str, Any], format: str) -> dict[str, Any]:
    """The artifact of ``format``; BundleError saying which formats the bundle has otherwise."""
    for artifact in manifest["artifacts"]:
        if artifact["format"] == format:
            return artifact
    have = ", ".join(a["format"] for a in manifest["artifacts"]) or "none"
    raise BundleError(
        f"the bundle has no {format!r} artifact (it has: {have}); export it with --formats {format}"
    )
