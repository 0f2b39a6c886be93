"""``lightship predict``: classify files and folders with a bundle; bad images are reported, not fatal."""

from __future__ import annotations

import json as jsonlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from lightship.images import ImageDecodeError, decode_image, iter_image_files
from lightship.runtime.backends import RuntimeChoice
from lightship.runtime.predictor import load

CHUNK = 256  # images decoded at a time, so a huge folder never sits in memory at once


def _expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from iter_image_files(path)
        else:
            yield path


def _decoded(paths: list[Path], errors: Console) -> Iterator[list[tuple[Path, np.ndarray]]]:
    chunk: list[tuple[Path, np.ndarray]] = []
    for path in _expand(paths):
        try:
            chunk.append((path, decode_image(path)))
        except ImageDecodeError as exc:
            errors.print(f"skipped {exc.source}: {exc.reason}", markup=False, highlight=False)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def predict_command(
    bundle: Path,
    images: list[Path],
    top_k: int = 3,
    json: bool = False,
    runtime: RuntimeChoice = "auto",
    threads: int | None = None,
    allow_unverified: bool = False,
) -> int:
    """Classify image files and folders (walked recursively) with a bundle.

    Args:
        bundle: Bundle folder written by `lightship export`.
        images: Image files and/or folders.
        top_k: How many classes to show per image.
        json: Print one JSON object per line: {"path", "label", "score", "top_k": [{"label", "score"}]}.
        runtime: auto (the bundle's preferred verified artifact whose runtime is installed) or a runtime.
        threads: CPU threads (default: all usable cores).
        allow_unverified: Use an artifact that failed or lacks verification (refused otherwise); every
            result then carries the reason ("unverified" in --json).

    Returns:
        0 when at least one image was classified, 1 when none could be.
    """
    predictor = load(bundle, runtime=runtime, threads=threads, allow_unverified=allow_unverified)
    out, errors = Console(), Console(stderr=True)
    if predictor.unverified is not None:
        errors.print(f"[bold yellow]warning:[/] {predictor.unverified}; used because of --allow-unverified")
    unverified = " [red]UNVERIFIED[/]" if predictor.unverified is not None else ""
    table = Table(
        title=f"{bundle} ({predictor.format} on {predictor.runtime}, {predictor.threads} threads){unverified}"
    )
    for column in ("image", "label", "score", f"top {top_k}"):
        table.add_column(column)
    done = 0
    for chunk in _decoded(images, errors):
        results = predictor.predict([array for _, array in chunk], top_k=top_k)
        for (path, _), result in zip(chunk, results, strict=True):
            done += 1
            if json:
                sys.stdout.write(jsonlib.dumps({"path": str(path), **result.to_dict()}) + "\n")
            else:
                top = ", ".join(f"{label} {score:.3f}" for label, score in result.top_k)
                table.add_row(str(path), result.label, f"{result.score:.3f}", top)
    if not json:
        out.print(table)
    if done == 0:
        errors.print("no image could be classified")
    return 0 if done else 1
