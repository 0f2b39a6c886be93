"""Every artifact of a bundle against the eager model on real images at their own, mixed sizes.

    python benchmarks/edge_parity.py BUNDLE IMAGEFOLDER [--per-class 30] [--seed 0] [--sizes 8 96]

Takes ``--per-class`` images of each class folder of IMAGEFOLDER (e.g. CIFAR-10's test split), rescales
each to a seeded random height and width in ``--sizes`` (antialiased bilinear, rounded to uint8: a mixed-size
ImageFolder), and runs every artifact this platform can run on each image at that size (one image per
call, as a phone would). Prints per artifact: top-1 agreement and max |Δprob| against the eager model on
the same pixels, and accuracy against the folder's labels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import lightship
from lightship.bundle.manifest import read_manifest
from lightship.bundle.reference import load_reference
from lightship.images import decode_image, iter_image_files
from lightship.models import InferenceWrapper
from lightship.runtime.backends import unavailable_reason


def mixed_sizes(folder: Path, labels: list[str], per_class: int, seed: int, sizes: tuple[int, int]):
    rng = np.random.default_rng(seed)
    images, targets = [], []
    for index, label in enumerate(labels):
        for path in sorted(iter_image_files(folder / label))[:per_class]:
            height, width = (int(v) for v in rng.integers(sizes[0], sizes[1] + 1, 2))
            pixels = Image.fromarray(decode_image(path)).resize(
                (width, height), Image.BILINEAR, reducing_gap=None
            )
            images.append(np.asarray(pixels, dtype=np.uint8))
            targets.append(index)
    return images, np.array(targets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle", type=Path)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", type=int, nargs=2, default=(8, 96))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    manifest = read_manifest(args.bundle)
    images, labels = mixed_sizes(
        args.folder, manifest["labels"], args.per_class, args.seed, tuple(args.sizes)
    )
    wrapper = InferenceWrapper(load_reference(args.bundle / "reference.pt"))
    with torch.no_grad():
        reference = np.concatenate([wrapper(torch.from_numpy(image)[None])[0].numpy() for image in images])
    shapes = {image.shape[:2] for image in images}
    print(
        f"{len(images)} images of {args.folder}, {len(shapes)} distinct sizes in {args.sizes[0]}..{args.sizes[1]}"
    )
    print(f"eager: accuracy {(reference.argmax(1) == labels).mean() * 100:.2f}%")
    for artifact in manifest["artifacts"]:
        name = artifact["format"]
        reason = unavailable_reason(artifact["runtime"])
        if reason is not None:
            print(f"{name}: {reason}")
            continue
        predictor = lightship.load(args.bundle, format=name, threads=args.threads)
        probs = np.concatenate([predictor.run(image[None]) for image in images])
        agreement = (probs.argmax(1) == reference.argmax(1)).mean() * 100
        diff = np.abs(probs - reference).max()
        accuracy = (probs.argmax(1) == labels).mean() * 100
        print(
            f"{name} ({artifact['precision']}): top-1 agreement {agreement:.2f}%, max |Δprob| {diff:.1e}, "
            f"accuracy {accuracy:.2f}%"
        )


if __name__ == "__main__":
    main()
