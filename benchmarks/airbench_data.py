"""The CIFAR-10 JPEG copy as airbench's ``train.pt`` / ``test.pt``, so airbench94_muon trains on the same pixels
as ``lightship train --config configs/cifar10-gpu.yaml`` (docs/benchmarks.md, "One GPU").

    python benchmarks/airbench_data.py DATA/cifar10-jpg OUT

Each file holds ``images`` (uint8, N x 32 x 32 x 3), ``labels`` and ``classes`` (sorted folder names), the
format airbench's loader reads.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def decode(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def split(root: Path, pool: ProcessPoolExecutor) -> dict[str, object]:
    """Every image of one split, class by class in sorted order."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        found = sorted((root / name).glob("*.jpg"))
        files += found
        labels += [label] * len(found)
    images = np.stack(list(pool.map(decode, files, chunksize=512)))
    return {"images": torch.from_numpy(images), "labels": torch.tensor(labels), "classes": classes}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path, help="the JPEG copy (train/ and test/ class folders)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for name in ("train", "test"):
            data = split(args.root / name, pool)
            torch.save(data, args.out / f"{name}.pt")
            print(name, tuple(data["images"].shape), flush=True)


if __name__ == "__main__":
    main()
