"""Writing WebDataset shards: an ImageFolder tree rewritten as tar files, for data beyond one machine's memory.

Layout of a shard folder (``lightship data shard ROOT OUT``; the index format is
:mod:`lightship.data.shard_reader`'s, which reads it)::

    OUT/index.json          class names, per split its shard names and sample counts, lightship version
    OUT/train-000000.tar    samples in a seeded shuffled order (so every shard mixes classes)
    OUT/val-000000.tar ...

A sample is the original file's bytes unchanged under its own extension (``000000042.jpg``) and the
class index (``000000042.cls``): decoding stays the job of :func:`lightship.images.decode_image` at
training time, the one decoding policy, instead of being baked into the shards. Images that policy
cannot decode are reported and left out when sharding, so shards hold only usable samples.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lightship import __version__
from lightship.console import console, escape
from lightship.data.config import DataConfig
from lightship.data.imagefolder import open_imagefolder
from lightship.data.shard_reader import FORMAT, INDEX
from lightship.data.types import SPLITS, BadFile, FileSplit
from lightship.errors import DataError, check_at_least
from lightship.files import publish_file, write_json
from lightship.images import ImageDecodeError, decode_image

#: Files read and checked per worker task while sharding.
CHUNK = 64


@dataclass
class ShardReport:
    """What ``write_shards`` wrote: the index (as saved in index.json) and the files left out."""

    index: dict
    bad_files: list[BadFile]


def shard_name(split: str, number: int) -> str:
    return f"{split}-{number:06d}.tar"


def _read_checked(paths: Sequence[str]) -> list[tuple[bytes | None, str | None]]:
    """Worker task: each file's bytes when the decoding policy accepts them, else (None, reason)."""
    results: list[tuple[bytes | None, str | None]] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
            decode_image(data, source=path)
            results.append((data, None))
        except ImageDecodeError as exc:
            results.append((None, exc.reason))
        except OSError as exc:
            results.append((None, f"cannot read file: {exc.strerror or exc}"))
    return results


def _checked_files(paths: list[str], workers: int, progress: Progress, description: str):
    """Yield (bytes or None, reason) per path, in order, checking in ``workers`` processes."""
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    task = progress.add_task(description, total=len(paths))
    if workers <= 1 or len(chunks) <= 1:
        results = map(_read_checked, chunks)
        for chunk in results:
            yield from chunk
            progress.advance(task, len(chunk))
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        for chunk in pool.map(_read_checked, chunks):
            yield from chunk
            progress.advance(task, len(chunk))


def _write_split(
    name: str, split: FileSplit, folder: Path, shard_size: int, seed: int, workers: int, progress: Progress
) -> tuple[dict, list[BadFile]]:
    """Write one split's shards into ``folder``; returns its index entry and its bad files."""
    import webdataset as wds

    order = np.random.default_rng([seed, SPLITS.index(name)]).permutation(len(split))
    paths = [str(split.root / split.files[i][0]) for i in order]
    labels = split.labels[order]
    shards: list[str] = []
    counts: list[int] = []
    bad: list[BadFile] = []
    writer = None
    written = 0
    for position, (data, reason) in enumerate(_checked_files(paths, workers, progress, f"sharding {name}")):
        if data is None:
            bad.append(BadFile(paths[position], reason or "unreadable"))
            continue
        if writer is None or counts[-1] == shard_size:
            if writer is not None:
                writer.close()
            shards.append(shard_name(name, len(shards)))
            counts.append(0)
            writer = wds.TarWriter(str(folder / shards[-1]))
        suffix = Path(paths[position]).suffix.lower().lstrip(".")
        writer.write({"__key__": f"{written:09d}", suffix: data, "cls": int(labels[position])})
        counts[-1] += 1
        written += 1
    if writer is not None:
        writer.close()
    return {"shards": shards, "counts": counts, "count": written}, bad


def write_shards(
    root: Path,
    out: Path,
    shard_size: int = 10000,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    workers: int = 2,
) -> ShardReport:
    """Shard every split of the ImageFolder tree ``root`` into ``out`` (see the module docstring).

    Splits missing on disk are carved from train exactly as training would carve them (same fractions
    and seed), and from then on are fixed by the shards. Everything is written under temporary names in
    ``out`` and renamed at the end, index.json last, so a reader never sees a half-written shard folder.
    """
    if shard_size < 1:
        raise DataError(f"shard_size is {shard_size}; it must be at least 1.")
    config = DataConfig(
        source="imagefolder", root=root, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )
    source = open_imagefolder(config)
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".shards-"))
    splits: dict[str, dict] = {}
    bad: list[BadFile] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, transient=True) as progress:
            for name, split in source.splits.items():
                if len(split) == 0:
                    continue
                assert isinstance(split, FileSplit)  # the imagefolder source only yields files
                splits[name], split_bad = _write_split(
                    name, split, staging, shard_size, seed, workers, progress
                )
                bad.extend(split_bad)
        index = {
            "format": FORMAT,
            "lightship_version": __version__,
            "class_names": source.class_names,
            "splits": splits,
            "source": str(Path(root).expanduser()),
            "seed": seed,
            "shard_size": shard_size,
            "bad_files": [{"path": b.path, "reason": b.reason} for b in bad],
        }
        for entry in splits.values():
            for shard in entry["shards"]:
                publish_file(staging / shard, out / shard)
        write_json(out / INDEX, index)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ShardReport(index, bad)


def shard_command(
    root: Path,
    out: Path,
    shard_size: int = 10000,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    workers: int = 2,
) -> int:
    """Write an image folder as WebDataset shards for --data.source shards (data beyond memory).

    Args:
        root: ImageFolder tree: ROOT/train/<class>/... (optionally val/, test/) or ROOT/<class>/....
        out: Folder for the shards (<split>-000000.tar, ...) and index.json.
        shard_size: Images per shard. Training needs at least (GPUs x data workers) train shards.
        val_fraction: Share of train carved out as val when ROOT has no val/ folder.
        test_fraction: Share of train carved out as test when ROOT has no test/ folder.
        seed: Seed of the carving and of the shuffled order of samples in the shards.
        workers: Processes reading and checking images.

    Returns:
        0 (bad images are reported and left out, not fatal).
    """
    check_at_least(1, shard_size=shard_size, workers=workers)
    report = write_shards(
        Path(root),
        Path(out),
        shard_size,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        workers=workers,
    )
    out_console = console()
    for name, entry in report.index["splits"].items():
        out_console.print(
            f"{name}: {entry['count']:,} images in {len(entry['shards'])} shard(s)", highlight=False
        )
    if report.bad_files:
        out_console.print(
            f"[bold yellow]left out {len(report.bad_files)} bad image file(s):[/]", highlight=False
        )
        for bad in report.bad_files:
            out_console.print(f"  {bad}", highlight=False, markup=False, soft_wrap=True)
    out_console.print(f"wrote {escape(Path(out) / INDEX)}", highlight=False)
    return 0
