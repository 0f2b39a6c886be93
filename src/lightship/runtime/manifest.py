"""The bundle manifest: reading it, hashing files, and refusing bundles that do not match it.

A bundle is a folder whose ``manifest.json`` lists every file with its size and sha256. The manifest is
written last and atomically, so its presence means the bundle is complete; a folder without one is not
a bundle. This module is shared by the exporter (writing) and every runtime (checking), so both sides
agree on one definition. The format is documented in ``docs/bundle.md``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import BundleError

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(root: Path, path: Path) -> dict[str, Any]:
    """``{"path", "bytes", "sha256"}`` of ``path``, with ``path`` relative to the bundle root (POSIX)."""
    return {
        "path": path.relative_to(root).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def read_manifest(bundle: str | Path) -> dict[str, Any]:
    """The parsed manifest of ``bundle``; BundleError if the folder is not a (complete) bundle."""
    root = Path(bundle)
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise BundleError(
            f"bundle {root} does not exist or is not a folder; create one with `lightship export`"
        )
    if not path.is_file():
        raise BundleError(
            f"{root} has no {MANIFEST_NAME}, so it is not a bundle (an interrupted export never leaves one); "
            "re-run `lightship export`"
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} is not readable JSON ({exc}); re-run `lightship export`") from exc
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            f"{path} has schema_version {version!r}; this lightship reads version {SCHEMA_VERSION}. "
            "Re-export the bundle with this lightship version."
        )
    return manifest


def check_files(root: Path, records: list[dict[str, Any]]) -> None:
    """BundleError naming the first listed file that is missing or whose size/sha256 differs."""
    for record in records:
        path = root / record["path"]
        if not path.is_file():
            raise BundleError(f"{path} is listed in the manifest but missing; the bundle is incomplete")
        if path.stat().st_size != record["bytes"] or sha256_file(path) != record["sha256"]:
            raise BundleError(
                f"{path} does not match its sha256 in {root / MANIFEST_NAME}: the file was modified or "
                "corrupted after export. Re-export the bundle or restore the file."
            )


def find_artifact(manifest: dict[str, Any], format: str) -> dict[str, Any]:
    for artifact in manifest["artifacts"]:
        if artifact["format"] == format:
            return artifact
    have = ", ".join(a["format"] for a in manifest["artifacts"]) or "none"
    raise BundleError(
        f"the bundle has no {format!r} artifact (it has: {have}); export it with --formats {format}"
    )
