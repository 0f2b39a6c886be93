"""Training data pipeline alone (no model): images/s of one epoch of train batches, three ways.

Usage: python benchmarks/stream_vs_memory.py [--data-root DIR] [--workers N] [--batch-size 512] [--limit N]

(a) memory: decoded once into the uint8 cache, batched augmentation (the cache is built first, untimed);
(b) stream: ImageFolder files decoded by DataLoader workers every epoch;
(c) shards: the same tree written as WebDataset shards (written first, untimed), read by DataLoader workers.
All three use the same augmentation settings. ``--limit`` shards and times a subset (first N train files
of a copy of the tree) to check that the script works; the figures to report come from a full run on an
idle machine, since other processes sharing the cores distort every figure. Prints a table, then JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lightship.data import DataConfig, ImageDataModule
from lightship.data.shard_writer import write_shards


def epoch_rate(config: DataConfig) -> dict:
    """Set up the data module (untimed), then time iterating one epoch of train batches."""
    module = ImageDataModule(config)
    module.setup("fit")
    loader = module.train_dataloader()
    start = time.perf_counter()
    images = sum(len(labels) for _, labels in loader)
    seconds = time.perf_counter() - start
    return {
        "mode": module.mode,
        "images": images,
        "seconds": round(seconds, 3),
        "images_per_s": images / seconds,
    }


def subset_tree(root: Path, limit: int, into: Path) -> Path:
    """A tree of symlinks to ``limit`` train files (every k-th, so all classes) and limit / 5 test files."""
    for split, count in (("train", limit), ("test", max(1, limit // 5))):
        files = sorted((root / split).glob("*/*"))
        for path in files[:: max(1, len(files) // count)][:count]:
            target = into / split / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, target)
    return into


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--data-root", type=Path, default=Path("/work/data/cifar10-jpg"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=0, help="only this many train images (a smoke test)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        root = subset_tree(args.data_root, args.limit, scratch_dir / "tree") if args.limit else args.data_root
        common = {
            "batch_size": args.batch_size,
            "num_workers": args.workers,
            "cache_dir": scratch_dir / "cache",
        }
        shards = scratch_dir / "shards"
        write_shards(root, shards, args.shard_size, workers=args.workers)
        results = {
            "memory": epoch_rate(DataConfig(source="imagefolder", root=root, mode="memory", **common)),
            "stream": epoch_rate(DataConfig(source="imagefolder", root=root, mode="stream", **common)),
            "shards": epoch_rate(DataConfig(source="shards", root=shards, **common)),
        }
    print(f"{'pipeline':10s} {'images':>8s} {'seconds':>8s} {'images/s':>10s}")
    for name, result in results.items():
        print(f"{name:10s} {result['images']:8d} {result['seconds']:8.2f} {result['images_per_s']:10,.0f}")
    settings = {"data_root": str(args.data_root), "limit": args.limit, "workers": args.workers}
    print(json.dumps({"settings": {**settings, "batch_size": args.batch_size}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
