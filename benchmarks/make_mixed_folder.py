"""An ImageFolder of images of mixed sizes, made from CIFAR-10 test images rescaled to seeded sizes.

The acceptance data of the proof (issue 11): a folder whose files are NOT at the model's size, so the resize
inside every artifact is verified on the files themselves (the manifest's off-size row). Each image of
``--per-class`` per class is rescaled with Pillow (bicubic) to a seeded height and width between ``--min``
and ``--max`` pixels, drawn independently (aspect ratios up to max/min), and saved as JPEG (quality 90) or, one in four,
PNG, under ``OUT/<class>/``. No split folders: ``lightship train`` carves val and test out of it by
``--data.val_fraction``/``--data.test_fraction``.

    python benchmarks/make_mixed_folder.py /work/data/cifar10-jpg /work/data/cifar10-mixed --per-class 300
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from lightship.images import decode_image, iter_image_files


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "cifar", type=Path, help="the CIFAR-10 JPEG copy (its test/<class>/ folders are used)"
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-class", type=int, default=300)
    parser.add_argument("--min", type=int, default=12)
    parser.add_argument("--max", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    test = args.cifar / "test"
    shapes: list[tuple[int, int]] = []
    for folder in sorted(p for p in test.iterdir() if p.is_dir()):
        files = list(iter_image_files(folder))
        chosen = sorted(rng.choice(len(files), size=min(args.per_class, len(files)), replace=False))
        target = args.out / folder.name
        target.mkdir(parents=True, exist_ok=True)
        for i in chosen:
            height, width = (int(v) for v in rng.integers(args.min, args.max + 1, size=2))
            image = Image.fromarray(decode_image(files[i])).resize((width, height), Image.Resampling.BICUBIC)
            name = files[i].stem
            if rng.random() < 0.25:
                image.save(target / f"{name}.png")
            else:
                image.save(target / f"{name}.jpg", quality=90)
            shapes.append((height, width))
    sizes = np.array(shapes)
    print(
        f"wrote {len(sizes)} images to {args.out}: heights {sizes[:, 0].min()}-{sizes[:, 0].max()}, widths "
        f"{sizes[:, 1].min()}-{sizes[:, 1].max()}, {np.mean((sizes == 32).all(1)) * 100:.1f}% at 32x32"
    )


if __name__ == "__main__":
    main()
