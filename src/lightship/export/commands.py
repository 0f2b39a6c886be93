"""``lightship export`` and ``lightship verify`` as plain typed functions (the CLI maps them with
jsonargparse); they print with Rich and return the process exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from lightship.bundle.manifest import read_manifest
from lightship.bundle.verification import ArtifactCheck, VerifyReport
from lightship.console import console, escape
from lightship.data.config import DataConfig
from lightship.errors import check_at_least
from lightship.export.bundle import ALL, DEFAULT_FORMATS, export_bundle, resolve_formats
from lightship.export.formats import DEFAULT_MAX_INPUT, FORMATS
from lightship.export.verify import verify_bundle
from lightship.training.checkpoint import load_trained
from lightship.training.runfolder import BUNDLE_DIR


def _fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, spec)


def _status(check: ArtifactCheck) -> str:
    return {True: "[green]pass[/]", False: "[red]FAIL[/]"}.get(check.passed, "[yellow]not run[/]")


def _pair(row_a: dict, row_b: dict, key: str, spec: str, scale: float = 1.0) -> str:
    return f"{_fmt(row_a.get(key), spec, scale)} / {_fmt(row_b.get(key), spec, scale)}"


def render_report(report: VerifyReport, console: Console) -> None:
    """The verification table (one row per artifact; model-size / off-size figures side by side), the notes
    and failures under it, and the robustness row apart (noise images, never gated)."""
    data = report.data
    model, off = data["model_size"], data["off_size"]
    table = Table(
        title=escape(
            f"verify on {data['source']} ({report.threads} threads): {model['count']} model-size images "
            f"({model['originals']} originals) / {off['count']} off-size ({off['source']})"
        )
    )
    for column in ("artifact", "top-1 agree %", "max |Δprob|", "pixels ≠ %", "acc %", "ms/img", "status"):
        table.add_column(column, justify="left" if column in ("artifact", "status") else "right")
    table.add_row("eager (reference)", "", "", "", _fmt(report.reference["accuracy"], ".2f"), "", "")
    notes: list[str] = []
    for c in report.checks:
        m, o = c.figures.get("model_size", {}), c.figures.get("off_size", {})
        table.add_row(
            f"{c.format} ({c.runtime})",
            _pair(m, o, "top1_agreement", ".2f", 100),
            _pair(m, o, "max_abs_prob_diff", ".0e"),
            _fmt(o.get("pixels_differing"), ".3f", 100),
            _fmt(m.get("accuracy"), ".2f"),
            _fmt(c.latency_ms, ".2f"),
            _status(c),
        )
        layers = c.figures.get("artifact", {})
        if "layers" in layers:
            notes.append(
                f"{c.format}: {layers['quantized_layers']} of {layers['layers']} layers computed in int8"
            )
        if o.get("over_max_input"):
            notes.append(
                f"{c.format}: {o['over_max_input']} off-size images larger than its max_input not run"
            )
        notes += [f"{c.format}: {g['gate']} {g['note']}" for g in c.gates if g["passed"] is None]
        notes += [f"[red]{c.format}: {failure}[/]" for failure in c.failures]
        if c.note:
            notes.append(f"{c.format}: {c.note}")
    table.caption = (
        "model size / off size; gates per kind: docs/bundle.md (and manifest.json verification.gates)"
    )
    console.print(table)
    for note in notes:
        console.print(f"  {note}", highlight=False)
    robust = Table(title="robustness: noise images of odd shapes (reported, never part of the gates)")
    for column in ("artifact", "images", "finite", "max |Δprob| vs eager"):
        robust.add_column(column)
    for c in report.checks:
        r = c.figures.get("robustness")
        if r:
            robust.add_row(c.format, str(r["images"]), str(r["finite"]), f"{r['max_abs_prob_diff']:.1e}")
    console.print(robust)
    if report.left_out:
        console.print(
            f"[yellow]left out of the bundle (default formats that failed their gates): "
            f"{', '.join(report.left_out)}[/]; manifest.json `left_out` says why"
        )


def export_command(
    checkpoint: Path,
    out: Path | None = None,
    formats: str | None = None,
    data: DataConfig | None = None,
    calibration_size: int = 256,
    verify: bool = True,
    n: int = 1000,
    samples: Literal["keep", "none"] = "keep",
    calibrate: bool = True,
    threads: int | None = None,
    overwrite: bool = False,
    max_input: int = DEFAULT_MAX_INPUT,
) -> int:
    """Export a trained model into a verified bundle folder.

    Args:
        checkpoint: Run folder (its best checkpoint) or a .ckpt file written by `lightship train`.
        out: Bundle folder to create (written to a temp folder, renamed into place when complete).
            Default: RUN/bundle.
        formats: Comma-separated names from the export-format table: {formats}; or `all`: every format
            whose optional dependency is installed (the others are listed as skipped, with the pip command).
            Default: {default}; a default format that fails its gates is left out (the manifest says why),
            a format named here (or by `all`) that fails makes export exit 1.
        data: The data to calibrate int8 on (train split) and verify on (test split, stratified, plus an
            off-size row). Default: the data of the run the checkpoint belongs to (fields given here override
            it). A loose .ckpt without data uses synthetic images: they prove the artifacts match the eager
            model (agreement gates), not that they are accurate.
        calibration_size: Training images (stratified) used to calibrate the int8 model.
        verify: Verify every artifact and record the results in the manifest (unverified artifacts are
            refused by every runtime unless --allow-unverified).
        n: Test images to verify on (stratified; at least 100 are used, topped up with rescaled copies).
        samples: keep: store a stratified subset of the verification images in the bundle (so `lightship
            verify BUNDLE` needs no data); none: store no images.
        calibrate: Put the run's temperature (fitted on its validation split) inside every artifact; false
            keeps raw softmax scores.
        threads: CPU threads of every runtime during verification (default: all usable cores).
        overwrite: Replace an existing bundle at `out`.
        max_input: Largest image height and width of the formats that plan memory for one (tflite,
            executorch, coreml): the manifest states it and every runtime refuses larger images.

    Returns:
        0 when every artifact in the bundle passed verification (or verify was off), 1 otherwise.
    """
    check_at_least(1, n=n, calibration_size=calibration_size, threads=threads)
    out_console = console()
    trained = load_trained(checkpoint, calibrate=calibrate)
    out = out or trained.home / BUNDLE_DIR
    names = None if formats is None else [name.strip() for name in formats.split(",") if name.strip()]
    if names is not None and ALL in names:
        for name, reason in resolve_formats(names)[1].items():
            out_console.print(f"[yellow]skipped {escape(name)}:[/] {escape(reason)}", highlight=False)
    bundle, report = export_bundle(
        trained.classifier,
        trained.meta,
        out,
        names,
        data=trained.data_config(data),
        calibration_size=calibration_size,
        verify=verify,
        verify_n=n,
        samples=samples,
        threads=threads,
        overwrite=overwrite,
        calibration=trained.calibration.to_dict(),
        max_input=max_input,
    )
    exported = ", ".join(a["format"] for a in read_manifest(bundle)["artifacts"])
    out_console.print(f"wrote bundle {escape(bundle)} ({escape(exported)})", highlight=False)
    out_console.print(escape(_calibration_line(bundle)), highlight=False)
    if report is None:
        out_console.print(
            "[yellow]not verified (--verify false): every runtime refuses these artifacts until "
            f"`lightship verify {escape(bundle)} --record true` passes[/]"
        )
        return 0
    render_report(report, out_console)
    if not report.passed:
        failed = [f"{c.format}: {'; '.join(c.failures)}" for c in report.checks if c.passed is False]
        out_console.print(
            "[red]verification failed[/] ("
            + escape(" | ".join(failed))
            + "): the bundle is written (see manifest.json) but every runtime refuses the failed artifacts; "
            "do not ship it"
        )
    return 0 if report.passed else 1


def _calibration_line(bundle: Path) -> str:
    """What the bundle's scores mean, with the calibration error before and after its temperature."""
    cal = read_manifest(bundle)["calibration"]
    if not cal.get("fitted"):
        line = f"scores: raw softmax ({cal.get('reason')})"
    else:
        line = f"scores: temperature {cal['temperature']:.3f}"
        if cal.get("ece_before") is not None:
            line += f", fitted on {cal['images']} validation images (ECE {cal['ece_before']:.3f} -> {cal['ece_after']:.3f})"
    if cal.get("test_ece_before") is not None:
        line += (
            f"; test ECE {cal['test_ece_before']:.3f} -> {cal['test_ece_after']:.3f} on "
            f"{cal['test_images']} verification images"
        )
    return line


# The choices come from the table, so adding a format needs no edit here.
export_command.__doc__ = (
    (export_command.__doc__ or "")
    .replace("{formats}", ", ".join(FORMATS))
    .replace("{default}", ",".join(DEFAULT_FORMATS))
)


def verify_command(
    bundle: Path,
    data: DataConfig | None = None,
    n: int = 1000,
    threads: int | None = None,
    record: bool = False,
) -> int:
    """Check every artifact of a bundle, in its own runtime, against the eager PyTorch model and the training
    data path, with the gates of docs/bundle.md.

    Args:
        bundle: Bundle folder written by `lightship export`.
        data: Images to verify on (test split, stratified, plus an off-size row). Default: the sample images
            stored in the bundle at export.
        n: Number of test images (with --data).
        threads: CPU threads of every runtime (default: all usable cores).
        record: Write the results into the bundle's manifest (what runtimes read to accept or refuse an
            artifact): re-verifies a bundle exported with --verify false or by an older lightship.

    Returns:
        0 when every gate holds, 1 otherwise.
    """
    check_at_least(1, n=n, threads=threads)
    report = verify_bundle(bundle, data, n=n, threads=threads, record=record)
    render_report(report, console())
    return 0 if report.passed else 1
