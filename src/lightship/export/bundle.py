"""``export_bundle``: write every requested artifact, verify it, and publish the bundle atomically.

The bundle is built in a hidden folder beside the target (:func:`lightship.files.staging_dir`) and
renamed into place at the end, with ``manifest.json`` written last inside it, so a crash never leaves
something that looks like a bundle. What the files mean is :mod:`lightship.bundle`'s; see docs/bundle.md.

A format the caller named that fails its gates stays in the bundle, recorded as failed (every runtime
refuses it without an explicit override), and the report fails. A format that is only part of the default
set and fails is left out: its files are removed and ``manifest["left_out"]`` says which gate failed.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from lightship.bundle.integrity import file_record
from lightship.bundle.manifest import new_manifest, write_manifest
from lightship.bundle.reference import REFERENCE_NAME, save_reference
from lightship.bundle.samples import (
    SAMPLES_NAME,
    SampleSet,
    calibration_samples,
    kept,
    save_samples,
    verification_samples,
)
from lightship.bundle.verification import VerifyReport, not_verified, record_verification
from lightship.console import track
from lightship.data.config import DataConfig
from lightship.errors import BundleError, MissingExtraError
from lightship.export.formats import DEFAULT_MAX_INPUT, FORMATS, Artifact, ExportContext
from lightship.export.verify import verify_bundle
from lightship.files import publish_dir, staging_dir
from lightship.models import Classifier, InferenceWrapper, ModelMeta
from lightship.training.calibration import expected_calibration_error, read_calibration
from lightship.training.checkpoint import data_of
from lightship.training.runfolder import RunFolder

DEFAULT_FORMATS = ("torchscript", "onnx", "onnx-int8")
#: ``formats=["all"]``: every format of the table whose optional dependency is installed.
ALL = "all"


def _artifact_entry(root: Path, name: str, artifact: Artifact) -> dict[str, Any]:
    fmt = FORMATS[name]
    entry = {
        "format": name,
        "runtime": fmt.runtime,
        "precision": fmt.precision,
        "gate": fmt.gate,
        "file": artifact.main.relative_to(root).as_posix(),
        "versions": artifact.versions,
        "files": [file_record(root, f) for f in artifact.files],
    }
    if artifact.max_input is not None:
        entry["max_input"] = {"height": artifact.max_input[0], "width": artifact.max_input[1]}
    return entry


def resolve_formats(formats: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The formats to export in the table's order (the preference of ``runtime="auto"``), and those ``all``
    left out with the reason (the pip command). Checked before any work: unknown names, and formats asked for
    by name whose optional dependency is missing, fail here."""
    wanted = set(formats)
    unknown = sorted(wanted - set(FORMATS) - {ALL})
    if unknown:
        raise BundleError(
            f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)} or {ALL}"
        )
    names: list[str] = []
    skipped: dict[str, str] = {}
    for name in FORMATS:
        if name not in wanted and ALL not in wanted:
            continue
        try:
            FORMATS[name].check_installed()
        except MissingExtraError as exc:
            if name in wanted:
                raise
            skipped[name] = str(exc)
            continue
        names.append(name)
    return names, skipped


def _exists(out: Path) -> BundleError:
    return BundleError(f"{out} already exists; pass --overwrite true or choose another --out")


def _calibration_record(
    meta: ModelMeta, given: dict[str, Any] | None, wrapper: InferenceWrapper, samples: SampleSet
) -> dict[str, Any]:
    """The manifest's ``calibration``: the temperature inside every artifact, how it was fitted, and the
    calibration error before and after on the labelled verification images (the test split)."""
    record = given
    if record is None and meta.run is not None:
        stored = read_calibration(RunFolder(Path(meta.run)).calibration)
        record = None if stored is None else stored.to_dict()
    if record is None or record.get("temperature") != meta.temperature:
        fitted = meta.temperature != 1.0
        record = {
            "temperature": meta.temperature,
            "fitted": fitted,
            "reason": "ModelMeta.temperature as given"
            if fitted
            else "no temperature given: raw softmax scores",
        }
    record = {k: v for k, v in record.items() if k != "checkpoint_sha256"}
    rows = samples.model_size
    if rows.labels is not None and rows.original.any():
        with torch.inference_mode():
            logits = torch.cat(
                [
                    wrapper(torch.from_numpy(rows.images[i : i + 256]))[1]
                    for i in range(0, len(rows.images), 256)
                ]
            )[torch.from_numpy(rows.original)]
        labels = torch.from_numpy(rows.labels[rows.original])
        record["test_images"] = len(labels)
        record["test_ece_before"] = round(expected_calibration_error(logits.softmax(1), labels), 6)
        record["test_ece_after"] = round(
            expected_calibration_error((logits / meta.temperature).softmax(1), labels), 6
        )
    return record


def _leave_out(root: Path, manifest: dict[str, Any], report: VerifyReport, named: set[str]) -> list[str]:
    """Remove the default-set artifacts that failed their gates; return the names left out."""
    failed = {c.format: c for c in report.checks if c.passed is False and c.format not in named}
    for artifact in [a for a in manifest["artifacts"] if a["format"] in failed]:
        for record in artifact["files"]:
            (root / record["path"]).unlink()
        check = failed[artifact["format"]]
        manifest.setdefault("left_out", []).append(
            {
                "format": artifact["format"],
                "reason": "failed its verification gates (only part of the default set, so left out): "
                + "; ".join(check.failures),
                "verification": artifact["verification"],
            }
        )
    manifest["artifacts"] = [a for a in manifest["artifacts"] if a["format"] not in failed]
    manifest["runtime_preference"] = [n for n in manifest["runtime_preference"] if n not in failed]
    report.checks = [c for c in report.checks if c.format not in failed]
    manifest["verification"]["passed"] = report.passed  # of what the bundle ships
    return sorted(failed)


def export_bundle(
    classifier: Classifier,
    meta: ModelMeta,
    out: str | Path,
    formats: Sequence[str] | None = None,
    data: DataConfig | None = None,
    calibration_size: int = 256,
    verify: bool = True,
    verify_n: int = 1000,
    samples: Literal["keep", "none"] = "keep",
    opset: int = 20,  # 20 has a native Gelu: ~20% lower ONNX Runtime latency than its Erf expansion in 18
    threads: int | None = None,
    overwrite: bool = False,
    calibration: dict[str, Any] | None = None,
    max_input: int = DEFAULT_MAX_INPUT,
) -> tuple[Path, VerifyReport | None]:
    """Export ``classifier`` (described by ``meta``) into the bundle folder ``out``.

    Args:
        formats: Format names; None = the default set (:data:`DEFAULT_FORMATS`), whose members that fail
            their gates are left out (``manifest["left_out"]`` says why). Named formats always stay.
            ``"all"``: every installed format; like the default set, one that fails its gates is left out
            (formats named beside ``all`` stay); the manifest lists those not installed under
            ``skipped_formats``, with the pip command.
        data: int8 calibration on ``calibration_size`` stratified images of its train split, verification on
            ``verify_n`` stratified images of its test split plus an off-size row. Default: the data of the
            run ``meta`` was loaded from (``load_classifier(RUN)`` sets ``meta.run``), exactly what
            ``lightship export RUN`` uses; without a run, seeded synthetic unlabelled images (agreement
            gates only, and the manifest says so).
        samples: "keep": ``samples.npz`` keeps a stratified subset of the verification images (256 at
            the model's size, 32 off-size at <= 1 megapixel) so ``lightship verify`` works without the data;
            "none": keep none.
        calibration: The temperature's record (``TrainedModel.calibration``); default: the run's
            ``calibration.json`` when it matches ``meta.temperature``.
        max_input: The largest image height and width of the formats that plan memory for one (tflite,
            executorch, coreml).

    Returns:
        The bundle folder and the verification report (None with ``verify=False``). The bundle is written
        even when a named format fails (the manifest records it and every runtime refuses it).
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise _exists(out)
    if max_input < meta.image_size:
        raise BundleError(f"max_input {max_input} is smaller than the model's image size {meta.image_size}")
    names, skipped = resolve_formats(DEFAULT_FORMATS if formats is None else formats)
    named = set(formats or ()) - {ALL}  # with "all", like the default set: what fails is left out
    size = meta.image_size
    if data is None and meta.run is not None:
        data = data_of(RunFolder(Path(meta.run)), meta)
    calibration_set, calibration_counts = calibration_samples(data, calibration_size, size)
    check_set = verification_samples(data, verify_n, size)
    with staging_dir(out) as tmp:
        wrapper = InferenceWrapper(copy.deepcopy(classifier).cpu())
        wrapper.classifier.temperature = meta.temperature
        save_reference(wrapper.classifier, meta, tmp / REFERENCE_NAME)
        sample_files, keeping = [], kept(check_set)
        if samples == "keep":
            save_samples(keeping, tmp / SAMPLES_NAME)
            sample_files = [file_record(tmp, tmp / SAMPLES_NAME)]
        example = torch.from_numpy(np.ascontiguousarray(calibration_set.images[:2]))
        # Intermediate files live in the staging folder: on the bundle's disk, and removed with it on failure.
        scratch = tmp / ".scratch"
        scratch.mkdir()
        ctx = ExportContext(
            wrapper, example, scratch, calibration_set.images, opset, tuple(meta.class_names), max_input
        )
        artifacts = {
            name: FORMATS.load(name)(ctx, tmp / FORMATS[name].file) for name in track(names, "export")
        }
        shutil.rmtree(scratch)
        samples_section = {
            "files": sample_files,
            "kept": "none (--samples none)" if samples == "none" else keeping.describe(),
            "verification": check_set.describe(),
            "calibration": calibration_counts,
        }
        manifest = new_manifest(
            meta,
            reference=file_record(tmp, tmp / REFERENCE_NAME),
            samples=samples_section,
            artifacts=[_artifact_entry(tmp, name, a) for name, a in artifacts.items()],
            runtime_preference=[name for name in names if FORMATS[name].auto],
            calibration=_calibration_record(meta, calibration, wrapper, check_set),
            skipped_formats=skipped,
        )
        report = None
        if verify:
            write_manifest(tmp, manifest)
            report = verify_bundle(tmp, check_set, n=verify_n, threads=threads)
            record_verification(manifest, report)
            report.left_out = _leave_out(tmp, manifest, report, named)
            if not manifest["artifacts"]:
                raise BundleError(
                    "no artifact passed verification, so no bundle was written: "
                    + " | ".join(entry["reason"] for entry in manifest["left_out"])
                )
        else:
            not_verified(manifest, "exported with --verify false")
        write_manifest(tmp, manifest)
        try:
            publish_dir(tmp, out, replace=overwrite)
        except FileExistsError as exc:  # created by someone else while this export ran
            raise _exists(out) from exc
    return out, report
