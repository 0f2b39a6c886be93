"""The images a bundle is proven on: int8 calibration, verification, and the copy kept in ``samples.npz``.

Why this shape: ImageFolder splits and the CIFAR-10 JPEG copy are sorted by class, so "the first N images"
are all airplanes. Every set here is **stratified and seeded**: each class in proportion to its size, at
least ``min(MIN_PER_CLASS, class size)`` images of every class, the same images on every run.

Verification has two rows of real images, never mixed with each other or with noise:

- **model size**: test images as the data pipeline delivers them (decoded, resized, rounded). Agreement gates
  need at least :data:`MIN_AGREEMENT_IMAGES`: with fewer test images the row is topped up with
  deterministic rescaled copies of them (marked, and never counted for accuracy).
- **off size**: the same kind of images at other sizes, through the artifact's own resize: for a folder of
  mixed sizes (or digits at 8x8) the images at their own size; for data already at the model's size
  (CIFAR-10) deterministic rescaled copies of real images at seeded sizes (smaller, larger, odd aspect
  ratios, one pixel wide).

Without data (an untrained model, a loose checkpoint) the images are seeded smooth random fields, unlabelled:
enough to prove every artifact computes the eager model's function, never a claim about accuracy.

``samples.npz`` keeps a stratified subset of the model-size row and at most :data:`KEPT_OFF_SIZE` off-size
images, downscaled to at most :data:`KEPT_MAX_PIXELS`, as decoded pixels only (no file names, no metadata),
so ``lightship verify BUNDLE`` re-checks a bundle anywhere; ``--samples none`` keeps nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from lightship.data.config import DataConfig
from lightship.data.decode import resize_images
from lightship.data.prepare import LabeledImages, load_split
from lightship.files import save_arrays
from lightship.images import decode_image
from lightship.models import resize_to

SAMPLES_NAME = "samples.npz"
MIN_PER_CLASS = 10
#: Agreement gates run on at least this many model-size images (topped up with rescaled copies).
MIN_AGREEMENT_IMAGES = 100
#: Images in the off-size row (at most; fewer when the data has fewer).
OFF_SIZE_IMAGES = 100
#: What samples.npz keeps: model-size images, off-size images, and the largest off-size image.
KEPT_MODEL_SIZE = 256
KEPT_OFF_SIZE = 32
KEPT_MAX_PIXELS = 1_000_000
FILES = "images at their own sizes"
COPIES = "rescaled copies at seeded sizes"


@dataclass
class ImageSet:
    """uint8 ``N x S x S x 3`` images at the model's size, optional int64 labels, where they came from, and
    which rows are real images of the data (``original``; False for rescaled copies that top a row up)."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str
    original: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.original is None:
            self.original = np.ones(len(self.images), dtype=bool)

    def take(self, rows: np.ndarray) -> ImageSet:
        labels = None if self.labels is None else self.labels[rows]
        return ImageSet(self.images[rows], labels, self.source, self.original[rows])


@dataclass
class OffSizeSet:
    """Images at sizes other than the model's: uint8 ``H x W x 3`` arrays, or files decoded when used (a
    folder of photos would not fit in memory at once). ``kinds`` counts how many are files / copies."""

    items: list[np.ndarray | Path]
    labels: np.ndarray | None
    source: str

    def __len__(self) -> int:
        return len(self.items)

    def image(self, i: int) -> np.ndarray:
        item = self.items[i]
        return decode_image(item) if isinstance(item, Path) else item

    def shape(self, i: int) -> tuple[int, int]:
        """(height, width) of image ``i`` (a file's from its header, before EXIF rotation)."""
        item = self.items[i]
        return native_shape(item) if isinstance(item, Path) else item.shape[:2]


def native_shape(path: Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    with Image.open(path) as image:
        return image.height, image.width


@dataclass
class SampleSet:
    """What verification runs on: the model-size row, the off-size row, and the class names of the labels."""

    model_size: ImageSet
    off_size: OffSizeSet
    class_names: list[str] | None = None

    def describe(self) -> dict[str, Any]:
        """Counts for the manifest: per class, how many originals and copies, sizes of the off-size row."""
        rows = self.model_size
        originals = int(rows.original.sum())
        off_shapes = [self.off_size.shape(i) for i in range(len(self.off_size))]
        names = self.class_names
        return {
            "source": rows.source,
            "labelled": rows.labels is not None,
            "model_size": {
                "count": len(rows.images),
                "originals": originals,
                "rescaled_copies": len(rows.images) - originals,
                "per_class": per_class(None if rows.labels is None else rows.labels[rows.original], names),
            },
            "off_size": {
                "count": len(self.off_size),
                "source": self.off_size.source,
                "per_class": per_class(self.off_size.labels, names),
                "smallest": _extreme(off_shapes, min),
                "largest": _extreme(off_shapes, max),
            },
        }


def _extreme(shapes: list[tuple[int, int]], pick: Any) -> list[int] | None:
    return list(pick(shapes, key=lambda s: s[0] * s[1])) if shapes else None


def per_class(labels: np.ndarray | None, names: list[str] | None) -> dict[str, int] | None:
    """``{class name: count}`` (every class, zeros included) of ``labels``; None without labels."""
    if labels is None:
        return None
    counts = Counter(int(label) for label in labels)
    if not names:
        return {str(k): counts[k] for k in sorted(counts)}
    return {name: counts[i] for i, name in enumerate(names)}


def stratified(labels: np.ndarray, n: int, seed: int, min_per_class: int = MIN_PER_CLASS) -> np.ndarray:
    """Indices of about ``n`` rows, every class in proportion to its size and at least
    ``min(min_per_class, class size)`` of each (so the total can exceed ``n`` when classes are many), seeded,
    in shuffled order (never grouped by class: a prefix of the result is again a mix of classes)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    if n >= len(labels):
        return rng.permutation(len(labels))
    share = n * counts / counts.sum()
    quota = np.minimum(counts, np.maximum(np.minimum(min_per_class, counts), np.floor(share).astype(int)))
    # Hand the rounding remainder to the classes with the largest fractional share (largest remainder).
    for c in np.argsort(-(share - np.floor(share)), kind="stable"):
        if quota.sum() >= n:
            break
        if quota[c] < counts[c]:
            quota[c] += 1
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quota, strict=True)]
    return rng.permutation(np.concatenate(chosen))


def seeded_sizes(n: int, size: int, seed: int) -> list[tuple[int, int]]:
    """``n`` (height, width) pairs other than (size, size): smaller, larger, wide, tall, one pixel wide."""
    rng = np.random.default_rng(seed)
    small, large = max(2, size // 4), 4 * size

    def between(lo: int, hi: int) -> int:
        return int(rng.integers(lo, max(lo, hi) + 1))

    sizes = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            shape = (between(small, size - 1), between(small, size - 1))
        elif kind == 1:
            shape = (between(size + 1, large), between(size + 1, large))
        elif kind == 2:
            shape = (between(small, size), between(2 * size, 5 * size))
        elif kind == 3:
            shape = (between(2 * size, 5 * size), between(small, size))
        else:
            other = between(size // 2 + 1, 3 * size)
            shape = (1, other) if i % 2 else (other, 1)
        sizes.append(shape if shape != (size, size) else (size + 1, size))
    return sizes


def rescaled(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` rescaled to ``shape`` (height, width) by Pillow's bicubic filter: a camera or editor's
    resize, not lightship's own, so the copies do not share the artifacts' resize arithmetic."""
    pil = Image.fromarray(np.ascontiguousarray(image)).resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(pil, dtype=np.uint8)


def within_pixels(image: np.ndarray, max_pixels: int = KEPT_MAX_PIXELS) -> np.ndarray:
    """``image`` downscaled (aspect ratio kept) to at most ``max_pixels`` pixels; as is when smaller."""
    h, w = image.shape[:2]
    if h * w <= max_pixels:
        return image
    scale = (max_pixels / (h * w)) ** 0.5
    return rescaled(image, (max(1, int(h * scale)), max(1, int(w * scale))))


def synthetic_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour fields with mild noise: deterministic, unlabelled (uint8 N x S x S x 3)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=generator) * 255.0
    fields = resize_to(coarse, size) + torch.randn(n, 3, size, size, generator=generator) * 12.0
    return fields.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def _top_up(rows: ImageSet, size: int, seed: int, resize: str = "squash") -> ImageSet:
    """``rows`` plus rescaled copies of its images (brought back to ``size`` by the data pipeline's resize,
    in the model's resize mode ``resize``) until it holds :data:`MIN_AGREEMENT_IMAGES` images."""
    missing = MIN_AGREEMENT_IMAGES - len(rows.images)
    if missing <= 0 or len(rows.images) == 0:
        return rows
    sources = np.arange(missing) % len(rows.images)
    shapes = seeded_sizes(missing, size, seed)
    copies = np.stack(
        [
            resize_images(rescaled(rows.images[i], s)[None], size, resize)[0]
            for i, s in zip(sources, shapes, strict=True)
        ]
    )
    labels = None if rows.labels is None else np.concatenate([rows.labels, rows.labels[sources]])
    original = np.concatenate([rows.original, np.zeros(missing, dtype=bool)])
    return ImageSet(np.concatenate([rows.images, copies]), labels, rows.source, original)


def _off_size(
    split: LabeledImages | None, rows: np.ndarray, images: np.ndarray, labels: np.ndarray | None, seed: int
) -> OffSizeSet:
    """The off-size row for the chosen model-size ``rows`` (indices into ``split``; ``images`` are theirs)."""
    size = images.shape[1]
    pick = (
        stratified(labels, OFF_SIZE_IMAGES, seed)
        if labels is not None
        else np.arange(len(images))[:OFF_SIZE_IMAGES]
    )
    shapes = seeded_sizes(len(pick), size, seed)
    items: list[np.ndarray | Path] = []
    files = 0
    for j, shape in zip(pick.tolist(), shapes, strict=True):
        origin = None if split is None or split.origins is None else split.origins[int(rows[j])]
        if isinstance(origin, Path):
            if native_shape(origin) != (size, size):
                items.append(origin)
                files += 1
                continue
        elif origin is not None and origin.shape[:2] != (size, size):
            items.append(origin)
            files += 1
            continue
        items.append(rescaled(images[j], shape))
    kinds = [f"{files} {FILES}"] if files else []
    if len(items) > files:
        kinds.append(f"{len(items) - files} {COPIES} (seed {seed})")
    return OffSizeSet(items, None if labels is None else labels[pick], ", ".join(kinds))


def verification_samples(config: DataConfig | None, n: int, size: int, seed: int = 0) -> SampleSet:
    """The two verification rows: ``n`` stratified test images of ``config`` (topped up to
    :data:`MIN_AGREEMENT_IMAGES`) and their off-size row; seeded synthetic images without data."""
    if config is None:
        images = synthetic_images(max(n, MIN_AGREEMENT_IMAGES), size, seed)
        rows = ImageSet(images, None, f"synthetic (seed {seed}, unlabelled)")
        return SampleSet(rows, _off_size(None, np.arange(len(images)), images, None, seed))
    split = load_split(config, "test")
    chosen = stratified(split.labels.numpy(), n, seed)
    where = config.root or config.source
    rows = ImageSet(
        split.images.numpy()[chosen],
        split.labels.numpy()[chosen].astype(np.int64),
        f"{config.source}:{where} test split, stratified (seed {seed})",
    )
    off = _off_size(split, chosen, rows.images, rows.labels, seed)
    return SampleSet(_top_up(rows, size, seed, config.resize), off, list(split.class_names))


def calibration_samples(config: DataConfig | None, n: int, size: int, seed: int = 1) -> tuple[ImageSet, dict]:
    """``n`` stratified training images for int8 calibration (synthetic without data), and their counts."""
    if config is None:
        images = synthetic_images(n, size, seed)
        rows = ImageSet(images, None, f"synthetic (seed {seed}, unlabelled)")
        return rows, {"source": rows.source, "count": n, "per_class": None}
    split = load_split(config, "train")
    chosen = stratified(split.labels.numpy(), n, seed)
    labels = split.labels.numpy()[chosen]
    where = config.root or config.source
    rows = ImageSet(split.images.numpy()[chosen], labels, f"{config.source}:{where} train split, stratified")
    return rows, {
        "source": rows.source,
        "count": len(chosen),
        "per_class": per_class(labels, split.class_names),
    }


def kept(samples: SampleSet, seed: int = 2) -> SampleSet:
    """The subset ``samples.npz`` keeps: stratified model-size originals (at most :data:`KEPT_MODEL_SIZE`)
    and stratified off-size images (at most :data:`KEPT_OFF_SIZE`), each downscaled to <= 1 megapixel."""
    rows = samples.model_size
    originals = np.flatnonzero(rows.original)
    if rows.labels is not None:
        pick = originals[stratified(rows.labels[originals], KEPT_MODEL_SIZE, seed, min_per_class=1)]
    else:
        pick = originals[:KEPT_MODEL_SIZE]
    off = samples.off_size
    if off.labels is not None:
        off_pick = stratified(off.labels, KEPT_OFF_SIZE, seed, min_per_class=1)[:KEPT_OFF_SIZE]
    else:
        off_pick = np.arange(len(off))[:KEPT_OFF_SIZE]
    off_kept = OffSizeSet(
        [within_pixels(off.image(int(i))) for i in off_pick],
        None if off.labels is None else off.labels[off_pick],
        off.source,
    )
    return SampleSet(rows.take(pick), off_kept, samples.class_names)


def save_samples(samples: SampleSet, path: Path) -> None:
    """``samples`` as ``samples.npz``: pixels, labels when known, and where they came from (no pickles)."""
    rows, off = samples.model_size, samples.off_size
    arrays = [off.image(i) for i in range(len(off))]
    data: dict[str, np.ndarray] = {
        "images": rows.images,
        "original": rows.original,
        "source": np.array(rows.source),
        "off_size_pixels": np.concatenate([a.reshape(-1) for a in arrays])
        if arrays
        else np.zeros(0, np.uint8),
        "off_size_shapes": np.array([a.shape[:2] for a in arrays], dtype=np.int64).reshape(-1, 2),
        "off_size_source": np.array(off.source),
    }
    if rows.labels is not None:
        data["labels"] = rows.labels
    if off.labels is not None:
        data["off_size_labels"] = off.labels
    if samples.class_names:
        data["class_names"] = np.array(samples.class_names)
    save_arrays(path, **data)


def load_samples(path: Path) -> SampleSet:
    """The sample set stored by :func:`save_samples` (``allow_pickle=False``; older files have no off-size
    row, which is then made from rescaled copies of the stored images)."""
    with np.load(path, allow_pickle=False) as data:
        labels = data["labels"] if "labels" in data.files else None
        original = data["original"] if "original" in data.files else None
        rows = ImageSet(data["images"], labels, f"bundle samples: {data['source'].item()}", original)
        names = [str(n) for n in data["class_names"]] if "class_names" in data.files else None
        if "off_size_shapes" not in data.files:
            off = _off_size(None, np.arange(len(rows.images)), rows.images, rows.labels, 0)
            return SampleSet(rows, off, names)
        items: list[np.ndarray | Path] = []
        flat, offset = data["off_size_pixels"], 0
        for h, w in data["off_size_shapes"].tolist():
            items.append(flat[offset : offset + h * w * 3].reshape(h, w, 3))
            offset += h * w * 3
        off_labels = data["off_size_labels"] if "off_size_labels" in data.files else None
        off = OffSizeSet(items, off_labels, f"bundle samples: {data['off_size_source'].item()}")
    return SampleSet(rows, off, names)
