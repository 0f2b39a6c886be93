"""Decode a folder of images once; later runs load one uint8 array from disk in well under a second.

A cache entry is keyed by the content it was built from: the sorted (relative path, size, mtime_ns) of
every file, the labels, the image size and :data:`POLICY_VERSION`. Any changed, added or removed file
gives a new key, so a stale cache is never read. Entries are plain ``np.save`` files (uncompressed:
loading is a single read) written atomically by :mod:`lightship.files`, so a crash or two ranks building at
once never leave a half-written entry that looks valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from lightship.data.decode import Decoded, decode_files
from lightship.data.types import BadFile, FileSplit
from lightship.files import save_array, write_json

log = logging.getLogger(__name__)

#: Bump when the decoding policy, the resize policy or the rounding changes: old caches are then unused.
#: 2: resized pixels round exact halves upward (lightship.models.classifier.LEVEL_NUDGE), as every artifact.
POLICY_VERSION = 2


def default_cache_dir() -> Path:
    """``$LIGHTSHIP_CACHE`` or ``~/.cache/lightship``."""
    return Path(os.environ.get("LIGHTSHIP_CACHE") or Path.home() / ".cache" / "lightship")


def cache_key(split: FileSplit, image_size: int, resize: str = "squash") -> str:
    """Hash of everything the decoded pixels depend on (not the absolute root: moved data stays cached).

    The resize mode enters the key only when it is not "squash", so caches written before the choice
    existed stay valid.
    """
    fields = [POLICY_VERSION, image_size, split.files, split.labels.tolist()]
    if resize != "squash":
        fields.append(resize)
    payload = json.dumps(fields, separators=(",", ":")).encode()
    return hashlib.sha256(payload).hexdigest()[:32]


def load_or_decode(
    split: FileSplit, image_size: int, cache_dir: Path | None, workers: int, resize: str = "squash"
) -> Decoded:
    """The decoded files of ``split`` from the cache, decoding (and saving) them first when needed."""
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    stem = f"images-{cache_key(split, image_size, resize)}"
    cached = _load(directory, stem, split)
    if cached is not None:
        return cached
    decoded = decode_files(
        split.paths, image_size, workers, description=f"decoding {split.root}", resize=resize
    )
    _save(directory, stem, decoded)
    return decoded


def _save(directory: Path, stem: str, decoded: Decoded) -> None:
    """Write the entry; a cache folder that cannot be written costs a warning, not the run (the decoded
    images are in memory already), and leaves none of this entry's files behind."""
    files = [directory / f"{stem}.images.npy", directory / f"{stem}.index.npy", directory / f"{stem}.json"]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        save_array(files[0], decoded.images)
        save_array(files[1], decoded.index)
        # The manifest is written last: its presence marks a complete entry.
        bad = [[int(i), b.reason] for i, b in zip(decoded.bad_index, decoded.bad_files, strict=True)]
        write_json(files[2], {"count": len(decoded.index), "bad": bad}, indent=None)
    except OSError as exc:
        for file in files:
            with contextlib.suppress(OSError):  # the folder itself may be what cannot be written
                file.unlink(missing_ok=True)
        log.warning(
            "cannot write the decode cache in %s (%s); continuing with the images in memory, so the next run "
            "decodes them again (set --data.cache_dir or $LIGHTSHIP_CACHE to a writable folder)",
            directory,
            exc.strerror or exc,
        )


def _load(directory: Path, stem: str, split: FileSplit) -> Decoded | None:
    manifest_path = directory / f"{stem}.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        images = np.load(directory / f"{stem}.images.npy")
        index = np.load(directory / f"{stem}.index.npy")
        if len(images) != manifest["count"] or len(index) != manifest["count"]:
            raise ValueError("entry sizes disagree")
        bad_index = np.asarray([i for i, _ in manifest["bad"]], dtype=np.int64)
        bad = [BadFile(str(split.root / split.files[i][0]), reason) for i, reason in manifest["bad"]]
    except (OSError, ValueError, KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
        log.warning("ignoring damaged cache entry %s (%s); decoding again", directory / stem, exc)
        return None
    return Decoded(images, index, bad_index, bad)
