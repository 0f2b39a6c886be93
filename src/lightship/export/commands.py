"""``lightship export`` and ``lightship verify`` as plain typed functions (the CLI maps them with
jsonargparse); they print with Rich and return the process exit code."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from lightship.bundle.manifest import read_manifest
from lightship.bundle.verification import VerifyReport
from lightship.console import console, escape
from lightship.data.config import DataConfig
from lightship.errors import check_at_least
from lightship.export.bundle import ALL, DEFAULT_FORMATS, export_bundle, resolve_formats
from lightship.export.formats import DEFAULT_MAX_INPUT, FORMATS
from lightship.export.verify import AGREEMENT_GATES, INT8_MAX_ACCURACY_DROP, verify_bundle
from lightship.training.checkpoint import load_trained
from lightship.training.runfolder import BUNDLE_DIR


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_report(report: VerifyReport, console: Console) -> None:
    """The verification table: one row per artifact, thresholds and data source in the caption."""
    status = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "[yellow]not gated (no labels)[/]"}
    table = Table(title=escape(f"verify: {report.n} images from {report.data}, {report.threads} threads"))
    for column in ("artifact", "runtime", "top-1 agree", "max |Δprob|", "accuracy %", "ms/image", "status"):
        table.add_column(column, justify="left" if column in ("artifact", "runtime", "status") else "right")
    table.add_row("eager (reference)", "pytorch", "", "", _fmt(report.reference_accuracy, ".2f"), "", "")
    for c in report.checks:
        detail = "; ".join(c.failures)
        outcome = (
            f"[yellow]{escape(c.note)}[/]"
            if c.note
            else status[c.passed] + (f" {escape(detail)}" if detail else "")
        )
        table.add_row(
            c.format,
            c.runtime,
            _fmt(None if c.top1_agreement is None else c.top1_agreement * 100, ".2f"),
            _fmt(c.max_abs_prob_diff, ".1e"),
            _fmt(c.accuracy, ".2f"),
            _fmt(c.latency_ms, ".2f"),
            outcome,
        )
    gates = [
        f"{precision}: top-1 agreement >= {agreement:.1%} and max |Δprob| <= {diff:.0e}"
        for precision, (agreement, diff) in AGREEMENT_GATES.items()
    ]
    table.caption = "; ".join([*gates, f"int8: accuracy drop <= {INT8_MAX_ACCURACY_DROP} point"])
    console.print(table)


def export_command(
    checkpoint: Path,
    out: Path | None = None,
    formats: str = ",".join(DEFAULT_FORMATS),
    data: DataConfig | None = None,
    calibration_size: int = 256,
    verify: bool = True,
    n: int = 1000,
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
        data: The data to calibrate int8 on (train split) and verify on (test split). Default: the data of
            the run the checkpoint belongs to (fields given here override it). A loose .ckpt without data
            uses synthetic images: they prove the artifacts match the eager model, not that they are accurate.
        calibration_size: Training images used to calibrate the int8 model.
        verify: Verify every artifact against the eager model and record the results in the manifest.
        n: Images to verify on.
        threads: CPU threads of every runtime during verification (default: all usable cores).
        overwrite: Replace an existing bundle at `out`.
        max_input: Largest image height and width of the formats that plan memory for one (tflite,
            executorch, coreml): the manifest states it and every runtime refuses larger images.

    Returns:
        0 when every artifact passed verification (or verify was off), 1 otherwise.
    """
    check_at_least(1, n=n, calibration_size=calibration_size, threads=threads)
    out_console = console()
    trained = load_trained(checkpoint)
    out = out or trained.home / BUNDLE_DIR
    names = [name.strip() for name in formats.split(",") if name.strip()]
    if ALL in names:
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
        threads=threads,
        overwrite=overwrite,
        max_input=max_input,
    )
    exported = ", ".join(a["format"] for a in read_manifest(bundle)["artifacts"])
    out_console.print(f"wrote bundle {escape(bundle)} ({escape(exported)})", highlight=False)
    if report is None:
        return 0
    render_report(report, out_console)
    if not report.passed:
        out_console.print(
            "[red]verification failed: the bundle is written (see manifest.json) but do not ship it[/]"
        )
    return 0 if report.passed else 1


# The choices come from the table, so adding a format needs no edit here.
export_command.__doc__ = (export_command.__doc__ or "").replace("{formats}", ", ".join(FORMATS))


def verify_command(
    bundle: Path, data: DataConfig | None = None, n: int = 1000, threads: int | None = None
) -> int:
    """Check every artifact of a bundle, in its own runtime, against the eager PyTorch model.

    Args:
        bundle: Bundle folder written by `lightship export`.
        data: Images to verify on (test split). Default: the sample images stored in the bundle at export
            (the user's test images if export had data, else synthetic unlabelled images).
        n: Number of images.
        threads: CPU threads of every runtime (default: all usable cores).

    Returns:
        0 when every threshold holds, 1 otherwise.
    """
    check_at_least(1, n=n, threads=threads)
    report = verify_bundle(bundle, data, n=n, threads=threads)
    render_report(report, console())
    return 0 if report.passed else 1
