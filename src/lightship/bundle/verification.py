"""Verification records: what ``verify`` found per artifact, as kept in the manifest, and what a reader
concludes from them (:func:`unverified_reason`: may this artifact be used?).

The checks themselves (running each artifact against the eager model and the training data path, the
gates) are :mod:`lightship.export.verify` and :mod:`lightship.export.gates`; this module is the stored form
every reader shares. An artifact is usable only when the manifest holds a verification made with the gate
table (``verification.gates``) and the artifact passed it: bundles written before the gate table existed
read as unverified, with the command that re-verifies them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ArtifactCheck:
    """Verification of one artifact: figures per row of images, each gate's result, and the verdict.

    ``passed`` is None when the artifact could not be run on this platform (``note`` says why).
    """

    format: str
    runtime: str
    precision: str
    gate: str
    figures: dict[str, dict[str, Any]]
    gates: list[dict[str, Any]]
    passed: bool | None
    failures: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    """Mean milliseconds per image at batch size 64 (model-size row)."""
    note: str | None = None


@dataclass
class VerifyReport:
    """Every artifact's check, the images they ran on, and the gate table they were held to."""

    data: dict[str, Any]
    threads: int
    reference: dict[str, Any]
    checks: list[ArtifactCheck]
    gates: dict[str, Any]
    left_out: list[str] = field(default_factory=list)
    """Default-set formats that failed and were left out of the bundle (export only)."""

    @property
    def passed(self) -> bool:
        """Every artifact passed, except those this platform cannot run at all (``note`` says why): those
        are refused by every reader (:func:`unverified_reason`) but do not fail the export that wrote them."""
        return all(check.passed is True or (check.passed is None and check.note) for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "threads": self.threads,
            "passed": self.passed,
            "reference": self.reference,
            "gates": self.gates,
            "artifacts": [asdict(check) for check in self.checks],
        }


def record_verification(manifest: dict[str, Any], report: VerifyReport) -> None:
    """Store ``report`` in ``manifest``: each check in its artifact's entry, the rest under "verification"."""
    checks = {check.format: asdict(check) for check in report.checks}
    for artifact in manifest["artifacts"]:
        artifact["verification"] = checks[artifact["format"]]
    manifest["verification"] = {k: v for k, v in report.to_dict().items() if k != "artifacts"}


def not_verified(manifest: dict[str, Any], reason: str) -> None:
    """Mark every artifact of ``manifest`` as not verified, saying why (export with ``verify=False``)."""
    for artifact in manifest["artifacts"]:
        artifact["verification"] = {"passed": None, "failures": [], "note": reason}
    manifest["verification"] = {"passed": None, "note": reason}


def reverify_command(root: str) -> str:
    return f"`lightship verify {root} --record true`"


def unverified_reason(manifest: dict[str, Any], artifact: dict[str, Any], root: str) -> str | None:
    """Why ``artifact`` must not be used without an explicit override, naming it and its gate; None when it
    passed verification under the gate table."""
    name = f"artifact {artifact['format']!r} ({artifact['file']})"
    record = artifact.get("verification")
    if isinstance(record, dict) and record.get("passed") is None and record.get("note"):
        return f"{name} is unverified ({record['note']}); verify it with {reverify_command(root)}"
    if "gates" not in (manifest.get("verification") or {}) or not isinstance(record, dict):
        return (
            f"{name} is unverified: the bundle was written before verification covered every class, "
            f"off-size images and int8 agreement; re-verify it with {reverify_command(root)} "
            "(artifacts that predate the `pixels` output fail it: then re-export with `lightship export RUN`)"
        )
    if record.get("passed") is True:
        return None
    failed = "; ".join(record.get("failures") or []) or "see manifest.json"
    return f"{name} failed verification: {failed}"
