"""File records and the integrity check: a bundle whose files do not match their manifest is refused.

Every file a bundle ships (artifacts, ``reference.pt``, ``samples.npz``) is listed as ``{"path", "bytes",
"sha256"}`` with ``path`` relative to the bundle root. A path must stay inside the bundle: relative, POSIX,
no ``..``, no empty or ``.`` parts (:func:`confined_path`); the manifest is refused otherwise, in Python
here and in JavaScript (web/src/bundle-core.js) alike. A reader checks each file it uses before loading it,
so a modified or truncated file fails with a message naming it instead of producing wrong answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightship.errors import BundleError
from lightship.files import sha256_file

#: The file every bundle is described by (written last: no manifest = not a bundle).
MANIFEST_NAME = "manifest.json"


def file_record(root: Path, path: Path) -> dict[str, Any]:
    """``{"path", "bytes", "sha256"}`` of ``path``, with ``path`` relative to the bundle root (POSIX)."""
    return {
        "path": path.relative_to(root).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def confined_path(path: Any) -> str | None:
    """Why ``path`` (a manifest's file path) could leave the bundle folder, or None when it cannot."""
    if not isinstance(path, str) or not path:
        return "is not a non-empty string"
    if path.startswith("/") or "\\" in path or (len(path) > 1 and path[1] == ":"):
        return "is absolute or not a POSIX relative path"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "has an empty, '.' or '..' part"
    return None


def manifest_records(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file record of a manifest: each artifact's files, the reference model and the samples."""
    records = [record for artifact in manifest["artifacts"] for record in artifact["files"]]
    return records + manifest["reference"]["files"] + manifest["samples"]["files"]


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
