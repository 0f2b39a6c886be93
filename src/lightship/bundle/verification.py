"""Verification records: what ``verify`` found per artifact, as kept in the manifest.

The checks themselves (running each artifact against the eager model, the gates) are
:mod:`lightship.export.verify`'s; this module is the stored form every reader shares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ArtifactCheck:
    """Verification of one artifact. ``passed`` is None when nothing could be gated (int8 without labels)."""

    format: str
    runtime: str
    precision: str
    top1_agreement: float
    max_abs_prob_diff: float
    accuracy: float | None
    latency_ms: float
    """Mean milliseconds per image at batch size 64."""
    passed: bool | None
    failures: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    """Every artifact's check on ``n`` images of ``data``, with the thresholds they were held to."""

    data: str
    n: int
    threads: int
    reference_accuracy: float | None
    checks: list[ArtifactCheck]
    thresholds: dict[str, float]

    @property
    def passed(self) -> bool:
        return all(check.passed is not False for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "n": self.n,
            "threads": self.threads,
            "passed": self.passed,
            "reference_accuracy": self.reference_accuracy,
            "thresholds": dict(self.thresholds),
            "artifacts": [asdict(check) for check in self.checks],
        }


def record_verification(manifest: dict[str, Any], report: VerifyReport) -> None:
    """Store ``report`` in ``manifest``: each check in its artifact's entry, the rest under "verification"."""
    checks = {check.format: asdict(check) for check in report.checks}
    for artifact in manifest["artifacts"]:
        artifact["verification"] = checks[artifact["format"]]
    manifest["verification"] = {k: v for k, v in report.to_dict().items() if k != "artifacts"}
