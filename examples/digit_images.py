"""Write a few of scikit-learn's digits (the demo's test split) as PNG files, for `lightship predict`.

python examples/digit_images.py OUT_DIR [--n 6]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from lightship.data import DataConfig, load_split


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=6)
    args = parser.parse_args()
    test = load_split(DataConfig(source="digits", image_size=8), "test")
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.n):
        label = test.class_names[int(test.labels[i])]
        Image.fromarray(test.images[i].numpy()).save(args.out / f"digit-{i}-true-{label}.png")
    print(f"wrote {args.n} images to {args.out}")


if __name__ == "__main__":
    main()
