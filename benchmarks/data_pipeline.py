"""Data pipeline figures: augmentation images/s, first decode seconds, cached load seconds.

Usage: python benchmarks/data_pipeline.py [DATA_ROOT] [--cache-dir DIR] [--workers N]
DATA_ROOT is an imagefolder tree (default /work/data/cifar10-jpg). "First decode" and "cached load" are
``ImageDataModule.setup()`` (scan, decode or load every split, mean/std) with an empty, then a warm
cache folder (a temporary one unless --cache-dir is given). Print lines are the figures to report;
run it on an idle machine, since other processes sharing the cores distort every figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from lightship.data import AugmentConfig, DataConfig, ImageDataModule
from lightship.data.augment import BatchAugment


def augment_rate(batches: int = 50, batch_size: int = 512, size: int = 32) -> float:
    """Images/s of translate 2 + alternating flip + cutout 12 on uint8 32x32 batches (CPU)."""
    images = torch.randint(0, 256, (batch_size, size, size, 3), dtype=torch.uint8)
    indices = torch.arange(batch_size)
    augment = BatchAugment(AugmentConfig(translate=2, flip="alternating", cutout=12), batch_size, seed=0)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(5):
        augment(images, indices, epoch, generator)
    start = time.perf_counter()
    for epoch in range(batches):
        augment(images, indices, epoch, generator)
    return batches * batch_size / (time.perf_counter() - start)


def setup_seconds(config: DataConfig) -> tuple[float, ImageDataModule]:
    start = time.perf_counter()
    module = ImageDataModule(config)
    module.setup("fit")
    return time.perf_counter() - start, module


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("root", nargs="?", type=Path, default=Path("/work/data/cifar10-jpg"))
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    threads = torch.get_num_threads()
    print(f"augmentation: {augment_rate():,.0f} images/s (uint8 32x32, batch 512, CPU, {threads} threads)")
    torch.set_num_threads(1)
    print(f"augmentation: {augment_rate():,.0f} images/s (same, 1 thread)")
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = args.cache_dir or Path(scratch)
        config = DataConfig(
            source="imagefolder", root=args.root, cache_dir=cache_dir, num_workers=args.workers
        )
        first, module = setup_seconds(config)
        count = sum(len(module._memory[split][1]) for split in ("train", "val", "test"))
        print(f"first decode: {first:.2f} s for {count:,} images, all splits ({args.workers} workers)")
        cached, _ = setup_seconds(config)
        print(f"cached load:  {cached:.2f} s")


if __name__ == "__main__":
    main()
