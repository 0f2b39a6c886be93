"""File records and the integrity check: a bundle whose files do not match their manifest is refused.

Every file a bundle ships is listed as ``{"path", "bytes", "sha256"}`` with ``path`` relative to the
bundle root; a reader checks each file it uses before loading it, so a modified or truncated artifact
fails with a message naming the file instead of producing wrong answers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lightship.errors import BundleError

#: The file every bundle is described by (written last: no manifest = not a bundle).
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
