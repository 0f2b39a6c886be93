"""Writing files so that nobody ever sees half of one: the only place in lightship that renames into place
(and :func:`sha256_file`, the one file digest, with which readers check what was written).

Every writer (checkpoints, the decode cache, run-folder files, reports, bundles, web sites, benchmark and
tune outputs) goes through here. A file is written to a temporary name in its own folder, flushed to disk
(fsync) and renamed over the target with ``os.replace``, which is atomic on one filesystem: a reader, a
crash, a full disk or a SIGKILL leaves either the old file or the new one, never a truncated mix. A folder
(a bundle, a site) is built under a hidden temporary name beside its target and renamed into place whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (bundle file records, a run's checkpoint identity)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _naming(target: Path) -> Iterator[None]:
    """An OSError while preparing to write ``target`` names ``target`` (not the temporary name the user
    never chose), so the message says which of the user's paths cannot be written."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc


@contextmanager
def replacing(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary handle whose content replaces ``path`` atomically when the block ends without an error.

    On an error the temporary file is removed and ``path`` keeps its old content (or stays absent).
    """
    path = Path(path)
    with _naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with replacing(path) as handle:
        handle.write(data)


def write_text(path: str | Path, text: str) -> None:
    """UTF-8 text, written atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any, indent: int | None = 2) -> None:
    """``data`` as JSON (with a final newline), written atomically."""
    write_text(path, json.dumps(data, indent=indent) + "\n")


def save_array(path: str | Path, array: np.ndarray) -> None:
    """One array in ``.npy`` format (uncompressed: loading is a single read), written atomically."""
    with replacing(path) as handle:
        np.save(handle, array)


def save_arrays(path: str | Path, **arrays: np.ndarray) -> None:
    """Named arrays in a compressed ``.npz``, written atomically."""
    with replacing(path) as handle:
        np.savez_compressed(handle, **arrays)


def save_figure(path: str | Path, figure: Any, *, dpi: int = 100, tight: bool = True) -> None:
    """A matplotlib figure as PNG, written atomically (``tight`` crops to the drawn area)."""
    with replacing(path) as handle:
        figure.savefig(handle, format="png", dpi=dpi, bbox_inches="tight" if tight else None)


def publish_file(source: str | Path, path: str | Path) -> None:
    """Move a finished file (written by a library to a temporary name in ``path``'s folder) into place."""
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, path)


@contextmanager
def staging_dir(out: str | Path) -> Iterator[Path]:
    """A fresh hidden folder beside ``out`` to build a folder in (same filesystem, so it can be renamed
    into place with :func:`publish_dir`); removed when the block ends if it is still there."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    with _naming(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def publish_dir(tmp: str | Path, out: str | Path, replace: bool = False) -> None:
    """Rename the finished folder ``tmp`` to ``out``.

    An existing ``out`` is replaced only with ``replace`` (else FileExistsError); it is first renamed aside,
    so ``out`` is never half old, half new.
    """
    tmp, out = Path(tmp), Path(out)
    if not out.exists():
        tmp.rename(out)
        return
    if not replace:
        raise FileExistsError(f"{out} already exists")
    trash = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(trash)
    tmp.rename(out)
    shutil.rmtree(trash)
