"""``lightship export`` and ``lightship verify`` as plain typed functions (the CLI maps them with
jsonargparse); they print with Rich and return the process exit code."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from lightship.bundle.verification import VerifyReport
from lightship.data.config import DataConfig
from lightship.export.bundle import DEFAULT_FORMATS, export_bundle
from lightship.export.formats import FORMATS
from lightship.export.verify import verify_bundle
from lightship.training.checkpoint import load_trained


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_report(report: VerifyReport, console: Console) -> None:
    """The verification table: one row per artifact, thresholds and data source in the caption."""
    status = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "[yellow]not gated (no labels)[/]"}
    table = Table(title=f"verify: {report.n} images from {report.data}, {report.threads} threads")
    for column in ("artifact", "runtime", "top-1 agree", "max |Δprob|", "accuracy %", "ms/image", "status"):
        table.add_column(column, justify="left" if column in ("artifact", "runtime", "status") else "right")
    table.add_row("eager (reference)", "pytorch", "", "", _fmt(report.reference_accuracy, ".2f"), "", "")
    for c in report.checks:
        detail = "; ".join(c.failures)
        table.add_row(
            c.format,
            c.runtime,
            f"{c.top1_agreement * 100:.2f}%",
            f"{c.max_abs_prob_diff:.1e}",
            _fmt(c.accuracy, ".2f"),
            f"{c.latency_ms:.2f}",
            status[c.passed] + (f" {detail}" if detail else ""),
        )
    table.caption = "fp32: top-1 agreement >= 99.9% and max |Δprob| <= 1e-4; int8: accuracy drop <= 1.0 point"
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
) -> int:
    """Export a trained model into a verified bundle folder.

    Args:
        checkpoint: Run folder (its best checkpoint) or a .ckpt file written by `lightship train`.
        out: Bundle folder to create (written to a temp folder, renamed into place when complete).
            Default: RUN/bundle.
        formats: Comma-separated names from the export-format table: {formats}.
        data: The data to calibrate int8 on (train split) and verify on (test split). Default: the data of
            the run the checkpoint belongs to (fields given here override it). A loose .ckpt without data
            uses synthetic images: they prove the artifacts match the eager model, not that they are accurate.
        calibration_size: Training images used to calibrate the int8 model.
        verify: Verify every artifact against the eager model and record the results in the manifest.
        n: Images to verify on.
        threads: CPU threads of every runtime during verification (default: all usable cores).
        overwrite: Replace an existing bundle at `out`.

    Returns:
        0 when every artifact passed verification (or verify was off), 1 otherwise.
    """
    console = Console()
    trained = load_trained(checkpoint)
    out = out or trained.home / "bundle"
    names = [name.strip() for name in formats.split(",") if name.strip()]
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
    )
    console.print(f"wrote bundle {bundle} ({', '.join(names)})")
    if report is None:
        return 0
    render_report(report, console)
    if not report.passed:
        console.print(
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
    report = verify_bundle(bundle, data, n=n, threads=threads)
    render_report(report, Console())
    return 0 if report.passed else 1
