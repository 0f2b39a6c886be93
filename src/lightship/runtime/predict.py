"""``lightship predict``: classify files and folders with a bundle; bad images are reported, not fatal.

Each file is checked by header against the size budgets (:class:`lightship.images.PixelLimits`, under
the artifact's own ``max_input`` where it has one) before it is decoded, files are decoded a bounded
number of pixels at a time, and a file the runtime cannot run is reported and skipped like an
undecodable one: one hostile file never ends the run.
"""

from __future__ import annotations

import json as jsonlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from lightship.console import console, escape
from lightship.errors import check_at_least
from lightship.images import ImageDecodeError, PixelLimits, decode_image, iter_image_files
from lightship.runtime.backends import RuntimeChoice
from lightship.runtime.predictor import EagerPredictor, Prediction, Predictor, is_bundle, load

CHUNK = 256  # images decoded at a time, so a huge folder never sits in memory at once
CHUNK_PIXELS = 64_000_000  # ... nor a folder of large photos: a chunk ends once it holds this many pixels


def _expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from iter_image_files(path)
        else:
            yield path


def _decoded(
    paths: list[Path], limits: PixelLimits, errors: Console
) -> Iterator[list[tuple[Path, np.ndarray]]]:
    chunk: list[tuple[Path, np.ndarray]] = []
    pixels = 0
    for path in _expand(paths):
        try:
            chunk.append((path, decode_image(path, limits=limits)))
            pixels += chunk[-1][1].shape[0] * chunk[-1][1].shape[1]
        except ImageDecodeError as exc:
            _skip(errors, exc.source, exc.reason)
        if len(chunk) == CHUNK or pixels >= CHUNK_PIXELS:
            yield chunk
            chunk, pixels = [], 0
    if chunk:
        yield chunk


def _skip(errors: Console, source: object, reason: str) -> None:
    errors.print(f"skipped {source}: {reason}", markup=False, highlight=False, soft_wrap=True)


def predict_chunk(
    predictor: Predictor, chunk: list[tuple[Path, np.ndarray]], top_k: int, errors: Console
) -> Iterator[tuple[Path, Prediction]]:
    """The chunk's predictions; when the runtime fails on it, image by image, skipping those it fails on."""
    try:
        results = predictor.predict([array for _, array in chunk], top_k=top_k)
    except Exception:  # runtimes raise their own types (onnxruntime's derive from Exception only)
        results = None
    if results is not None:
        yield from zip((path for path, _ in chunk), results, strict=True)
        return
    for path, array in chunk:
        try:
            yield path, predictor.predict(array, top_k=top_k)
        except Exception as exc:  # this image alone: report it, keep going
            _skip(
                errors,
                path,
                f"the {predictor.runtime} runtime could not run it ({type(exc).__name__}: {exc})",
            )


def faster_with_a_bundle(model: Path) -> str:
    """What to say when a trained model runs eagerly: where its (faster) bundle is, or how to make one."""
    from lightship.training.runfolder import RunFolder

    run = RunFolder(Path(model))
    if is_bundle(run.bundle):
        return f"{model} runs here in PyTorch; its bundle is faster: lightship predict {run.bundle} ..."
    return f"{model} runs here in PyTorch; a bundle is faster and needs no torch: lightship export {model}"


def predict_command(
    model: Path,
    images: list[Path],
    top_k: int = 3,
    json: bool = False,
    runtime: RuntimeChoice = "auto",
    threads: int | None = None,
    allow_unverified: bool = False,
) -> int:
    """Classify image files and folders (walked recursively) with a bundle, or with a run's trained model.

    Args:
        model: Bundle folder written by `lightship export` (fastest), or a run folder / .ckpt written by
            `lightship train` (the eager PyTorch model: the same answers, slower).
        images: Image files and/or folders.
        top_k: How many classes to show per image.
        json: Print one JSON object per line: {"path", "label", "score", "top_k": [{"label", "score"}]}.
        runtime: auto (the bundle's preferred verified artifact whose runtime is installed), a runtime
            (onnxruntime, openvino, torchscript) or one of the bundle's format names (onnx = its ONNX
            artifact in onnxruntime, onnx-int8, ...).
        threads: CPU threads (default: all usable cores).
        allow_unverified: Use an artifact that failed or lacks verification (refused otherwise); every
            result then carries the reason ("unverified" in --json).

    Returns:
        0 when at least one image was classified, 1 when none could be.
    """
    check_at_least(1, top_k=top_k, threads=threads)
    predictor = load(model, runtime=runtime, threads=threads, allow_unverified=allow_unverified)
    limits = PixelLimits().capped(predictor.artifact.get("max_input"))
    out, errors = console(), console(stderr=True)
    if isinstance(predictor, EagerPredictor):
        errors.print(f"note: {escape(faster_with_a_bundle(model))}", highlight=False)
    if predictor.unverified is not None:
        errors.print(
            f"[bold yellow]warning:[/] {escape(predictor.unverified)}; used because of --allow-unverified",
            highlight=False,
        )
    title = f"{model} ({predictor.format} on {predictor.runtime}, {predictor.threads} threads)"
    unverified = " [red]UNVERIFIED[/]" if predictor.unverified is not None else ""
    table = Table(title=escape(title) + unverified)
    for column in ("image", "label", "score", f"top {top_k}"):
        table.add_column(column, overflow="fold")
    done = 0
    for chunk in _decoded(images, limits, errors):
        for path, result in predict_chunk(predictor, chunk, top_k, errors):
            done += 1
            if json:
                sys.stdout.write(jsonlib.dumps({"path": str(path), **result.to_dict()}) + "\n")
            else:
                top = ", ".join(f"{label} {score:.3f}" for label, score in result.top_k)
                table.add_row(escape(path), escape(result.label), f"{result.score:.3f}", escape(top))
    if not json and done:
        out.print(table)
    if done == 0:
        errors.print("no image could be classified")
    return 0 if done else 1
