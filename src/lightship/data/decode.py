"""Pixels at the model's size: decode with the one decoding policy, resize with the one resize policy.

Both policies live elsewhere (:mod:`lightship.images`, :func:`lightship.models.classifier.resize_levels`:
the same resize and rounding every artifact runs in its graph); this module only applies them, batched where
possible and in parallel processes for files.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lightship.data.types import BadFile
from lightship.images import ImageDecodeError, decode_image
from lightship.models.classifier import resize_levels

#: Files per task sent to a worker process: large enough to amortise pickling, small for a smooth bar.
CHUNK = 256


@dataclass
class Decoded:
    """Decoded files: ``images`` of the good ones, whose positions in the input list are ``index``;
    ``bad_files`` are the others, at positions ``bad_index``."""

    images: np.ndarray
    index: np.ndarray
    bad_index: np.ndarray
    bad_files: list[BadFile]


def resize_images(images: np.ndarray, size: int, resize: str = "squash", chunk: int = 1024) -> np.ndarray:
    """uint8 N x H x W x 3 -> uint8 N x size x size x 3 (rounded) in resize mode ``resize``; returned as is
    when already that size (which both modes leave unchanged)."""
    if images.shape[1:3] == (size, size):
        return images
    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for start in range(0, len(images), chunk):
        # torch.tensor copies (the uint8 chunk, cheap next to the float one): images may be read-only (a
        # loaded .npz, a broadcast view), which torch.from_numpy warns about.
        x = torch.tensor(images[start : start + chunk]).permute(0, 3, 1, 2).float()
        y = resize_levels(x, size, resize).to(torch.uint8)
        out[start : start + chunk] = y.permute(0, 2, 3, 1).numpy()
    return out


def decode_to_size(path: str | Path, size: int, resize: str = "squash") -> np.ndarray:
    """One file -> uint8 size x size x 3. Raises ImageDecodeError for a bad file."""
    return resize_images(decode_image(Path(path))[None], size, resize)[0]


def _decode_chunk(
    paths: Sequence[str], size: int, resize: str
) -> tuple[np.ndarray, list[int], list[tuple[int, BadFile]]]:
    """Worker task: decoded good images, their positions in ``paths``, and (position, BadFile) pairs."""
    images, good, bad = [], [], []
    for i, path in enumerate(paths):
        try:
            images.append(decode_to_size(path, size, resize))
            good.append(i)
        except ImageDecodeError as exc:
            bad.append((i, BadFile(path, exc.reason)))
    stacked = np.stack(images) if images else np.empty((0, size, size, 3), dtype=np.uint8)
    return stacked, good, bad


def _init_worker() -> None:
    # Each worker decodes serially; torch's own thread pool would only oversubscribe the cores.
    torch.set_num_threads(1)


def decode_files(
    paths: Sequence[str | Path],
    size: int,
    workers: int,
    description: str = "decoding",
    resize: str = "squash",
) -> Decoded:
    """Decode every file to ``size`` x ``size``; bad files never raise, they come back in ``bad_files``.

    Uses ``workers`` processes (fork where available: no re-import of torch per worker) and shows a
    Rich progress bar.
    """
    names = [str(p) for p in paths]
    chunks = [(start, names[start : start + CHUNK]) for start in range(0, len(names), CHUNK)]
    out = np.empty((len(names), size, size, 3), dtype=np.uint8)
    ok = np.zeros(len(names), dtype=bool)
    bad: dict[int, BadFile] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    if workers <= 1 or len(chunks) <= 1:
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(description, total=len(names))
            for start, chunk in chunks:
                _store(out, ok, bad, start, _decode_chunk(chunk, size, resize))
                progress.advance(task, len(chunk))
    else:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        # The pool is created before the progress bar starts its refresh thread: forking a
        # multi-threaded process is unsafe.
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
            futures = {pool.submit(_decode_chunk, chunk, size, resize): start for start, chunk in chunks}
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task(description, total=len(names))
                for future in as_completed(futures):
                    result = future.result()
                    _store(out, ok, bad, futures[future], result)
                    progress.advance(task, len(result[1]) + len(result[2]))
    index = np.flatnonzero(ok).astype(np.int64)
    images = out if len(index) == len(names) else out[index]
    bad_index = np.asarray(sorted(bad), dtype=np.int64)
    return Decoded(images, index, bad_index, [bad[i] for i in bad_index.tolist()])


def _store(
    out: np.ndarray,
    ok: np.ndarray,
    bad: dict[int, BadFile],
    start: int,
    result: tuple[np.ndarray, list[int], list[tuple[int, BadFile]]],
) -> None:
    images, good, chunk_bad = result
    positions = start + np.asarray(good, dtype=np.int64)
    out[positions] = images
    ok[positions] = True
    bad.update((start + i, bad_file) for i, bad_file in chunk_bad)


def find_bad_files(paths: Sequence[str | Path], workers: int) -> list[BadFile]:
    """Decode every file once and keep only the failures (the stream path's ``strict`` check)."""
    return decode_files(paths, 1, workers, description="checking images").bad_files
