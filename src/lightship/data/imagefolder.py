"""A folder of images labelled by subfolder: ROOT/train/<class>/... (+ val/, test/) or ROOT/<class>/...."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lightship.data.config import DataConfig
from lightship.data.splits import stratified_split
from lightship.data.types import SPLITS, FileSplit, SourceData
from lightship.errors import DataError
from lightship.images import IMAGE_EXTENSIONS

LAYOUT = "ROOT/train/<class>/<image> (optionally ROOT/val/, ROOT/test/) or ROOT/<class>/<image>"


def scan_image_files(root: Path) -> list[tuple[str, int, int]]:
    """(relative posix path, size, mtime_ns) of every image below ``root``, in ``iter_image_files`` order.

    Same selection rules as :func:`lightship.images.is_image_file` / ``iter_image_files`` (hidden files
    and folders skipped, image extensions only, symlinked folders not followed; a test checks they
    agree), written with ``os.walk`` and string checks because the pathlib version takes ~1 s for 60,000
    files, which alone would break the 1 s cached load.
    """
    found: list[tuple[tuple[str, ...], int, int]] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel_folder = Path(folder).relative_to(root).parts
        for name in names:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
                continue
            stat = os.stat(os.path.join(folder, name))
            found.append(((*rel_folder, name), stat.st_size, stat.st_mtime_ns))
    found.sort()
    return [("/".join(parts), size, mtime) for parts, size, mtime in found]


def class_folders(tree: Path) -> list[str]:
    """Sorted names of the visible subfolders of ``tree``: the class names."""
    return sorted(p.name for p in tree.iterdir() if p.is_dir() and not p.name.startswith("."))


def looks_like(root: Path) -> bool:
    """Whether ``root`` holds class folders with images (``ROOT/train/<class>/`` or ``ROOT/<class>/``), for
    ``--data.source auto``. Stops at the first image found, so a large tree costs a few file-system calls."""
    tree = root / "train" if (root / "train").is_dir() else root
    return any(_has_image(tree / name) for name in class_folders(tree))


def _has_image(folder: Path) -> bool:
    for _, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(not n.startswith(".") and os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS for n in names):
            return True
    return False


def open_imagefolder(config: DataConfig) -> SourceData:
    """Label files by class folder; splits missing on disk are carved from train (seeded, stratified),
    except a test split beside a val/ folder: with train/ and val/ on disk the user has chosen the held-out
    images, so the test split stays empty and the run reports its final figures on val."""
    root = config.root_folder(LAYOUT)
    present = {name: root / name for name in SPLITS if (root / name).is_dir()}
    if present and "train" not in present:
        raise DataError(f"{root} has {'/, '.join(present)}/ but no train/ folder; expected {LAYOUT}.")
    if present:
        class_names = class_folders(present["train"])
        splits = {name: _label_tree(tree, class_names) for name, tree in present.items()}
    else:
        class_names = class_folders(root)
        splits = {"train": _label_tree(root, class_names)}
    if not class_names or len(splits["train"]) == 0:
        tree = present.get("train", root)
        raise DataError(f"no images found in class folders under {tree}; expected {LAYOUT}.")
    carve = {
        name: fraction
        for name, fraction in (("val", config.val_fraction), ("test", config.test_fraction))
        if name not in splits and not (name == "test" and "val" in present)
    }
    if carve:
        train = splits["train"]
        parts = stratified_split(train.labels, carve, config.seed)
        splits.update({name: train.subset(idx) for name, idx in parts.items()})
    if "test" not in splits:
        splits["test"] = splits["train"].subset(np.empty(0, dtype=np.int64))
    return SourceData(class_names=class_names, splits={name: splits[name] for name in SPLITS})


def _label_tree(tree: Path, class_names: list[str]) -> FileSplit:
    """All images in ``tree/<class>/`` for the known classes; an unknown class folder is an error."""
    extra = sorted(set(class_folders(tree)) - set(class_names))
    if extra:
        raise DataError(
            f"{tree} has class folders {extra} that the training folder lacks; "
            "add them to train/ or remove them, since a model cannot predict classes it never saw."
        )
    files: list[tuple[str, int, int]] = []
    labels: list[int] = []
    for label, name in enumerate(class_names):
        if not (tree / name).is_dir():
            continue
        found = scan_image_files(tree / name)
        files.extend((f"{name}/{rel}", size, mtime) for rel, size, mtime in found)
        labels.extend([label] * len(found))
    return FileSplit(tree, files, np.asarray(labels, dtype=np.int64))
