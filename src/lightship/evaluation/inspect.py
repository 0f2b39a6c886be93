"""``lightship data inspect ROOT``: what is in an image folder before training on it, and what is wrong.

A report about data, as the rest of this package reports about models (it draws with the same plots).

Problems caught here are the ones that silently spoil a training run: the same image in train and test
(inflated test accuracy), unreadable files (skipped or fatal), empty classes and strong imbalance.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from lightship.console import console, escape
from lightship.data.imagefolder import LAYOUT, class_folders
from lightship.data.types import SPLITS
from lightship.errors import DataError, check_at_least
from lightship.evaluation.plots import plot_image_grid
from lightship.files import write_json
from lightship.images import ImageDecodeError, decode_image, iter_image_files

#: The name of the one split of a ROOT/<class>/... tree (the training code carves val/test from it).
WHOLE_TREE = "all"
#: Shown per table: the most common image sizes, and listed duplicates/corrupt files.
SHOWN_SIZES = 5
SHOWN_FILES = 20


@dataclass
class FileInfo:
    """One image file as inspect sees it: where, its content hash, its size or why it cannot be read."""

    split: str
    label: str
    path: str
    sha256: str
    size: tuple[int, int] | None
    error: str | None


@dataclass
class Inspection:
    """Everything ``inspect`` found; ``problems`` are what ``--strict`` fails on."""

    root: str
    class_names: list[str]
    counts: dict[str, dict[str, int]]
    sizes: dict[str, Any]
    duplicates_across_splits: list[list[str]]
    duplicates_within_splits: int
    corrupt: list[dict[str, str]]
    problems: list[str] = field(default_factory=list)


def split_trees(root: Path) -> dict[str, Path]:
    """{split: folder of class folders}: train/val/test when present, else the whole tree as one split."""
    present = {name: root / name for name in SPLITS if (root / name).is_dir()}
    return present or {WHOLE_TREE: root}


def scan_file(path: Path, split: str, label: str, root: Path) -> FileInfo:
    """Hash the bytes and decode with the training decoder, so "corrupt" means what training would skip."""
    data = path.read_bytes()
    rel = path.relative_to(root).as_posix()
    try:
        height, width = decode_image(data, rel).shape[:2]
        size, error = (width, height), None
    except ImageDecodeError as exc:
        size, error = None, exc.reason
    return FileInfo(split, label, rel, hashlib.sha256(data).hexdigest(), size, error)


def scan(root: Path) -> tuple[list[str], dict[str, list[str]], list[FileInfo]]:
    """(class names, class folders per split, every image file) of an ImageFolder tree."""
    trees = split_trees(root)
    per_split = {split: class_folders(tree) for split, tree in trees.items()}
    class_names = per_split.get("train") or sorted({c for names in per_split.values() for c in names})
    files = [
        scan_file(path, split, label, root)
        for split, tree in trees.items()
        for label in per_split[split]
        for path in iter_image_files(tree / label)
    ]
    return class_names, per_split, files


def size_summary(files: list[FileInfo]) -> dict[str, Any]:
    """Min/median/max width and height and the most common (width, height) pairs of readable images."""
    sizes = [f.size for f in files if f.size is not None]
    if not sizes:
        return {"count": 0}
    widths, heights = [w for w, _ in sizes], [h for _, h in sizes]
    return {
        "count": len(sizes),
        "width": {"min": min(widths), "median": statistics.median(widths), "max": max(widths)},
        "height": {"min": min(heights), "median": statistics.median(heights), "max": max(heights)},
        "most_common": [
            {"size": f"{w}x{h}", "count": n} for (w, h), n in Counter(sizes).most_common(SHOWN_SIZES)
        ],
    }


def inspect_tree(root: Path, imbalance_ratio: float = 3.0) -> Inspection:
    """Scan ``root``; list (duplicates across splits, corrupt files, empty classes, imbalance)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root} does not exist or is not a folder; expected {LAYOUT}.")
    class_names, per_split, files = scan(root)
    if not class_names:
        raise DataError(f"{root} has no class folders; expected {LAYOUT}.")
    counts = {split: dict.fromkeys(class_names, 0) for split in per_split}
    for f in files:
        if f.error is None:
            counts[f.split][f.label] = counts[f.split].get(f.label, 0) + 1
    by_hash: dict[str, list[FileInfo]] = defaultdict(list)
    for f in files:
        by_hash[f.sha256].append(f)
    groups = [(group, {g.split for g in group}) for group in by_hash.values()]
    across = [sorted(g.path for g in group) for group, splits in groups if len(splits) > 1]
    within = sum(len(group) - len(splits) for group, splits in groups)
    result = Inspection(
        root=str(root),
        class_names=class_names,
        counts=counts,
        sizes=size_summary(files),
        duplicates_across_splits=sorted(across),
        duplicates_within_splits=within,
        corrupt=[{"path": f.path, "reason": f.error} for f in files if f.error is not None],
    )
    result.problems = find_problems(result, per_split, imbalance_ratio)
    return result


def find_problems(result: Inspection, per_split: dict[str, list[str]], imbalance_ratio: float) -> list[str]:
    """One sentence per problem that ``--strict`` refuses, each saying what to fix."""
    problems = []
    for split, names in per_split.items():
        unknown = sorted(set(names) - set(result.class_names))
        if unknown:
            problems.append(f"{split}/ has class folders {unknown} that train/ lacks")
    for split, counts in result.counts.items():
        empty = [name for name, n in counts.items() if n == 0]
        if empty:
            problems.append(f"{split}: {len(empty)} class(es) with no readable images: {', '.join(empty)}")
        filled = [n for n in counts.values() if n > 0]
        if len(filled) > 1 and max(filled) / min(filled) > imbalance_ratio:
            problems.append(
                f"{split}: classes are imbalanced, largest/smallest = {max(filled)}/{min(filled)} "
                f"= {max(filled) / min(filled):.1f} (> {imbalance_ratio:g})"
            )
    if result.duplicates_across_splits:
        problems.append(
            f"{len(result.duplicates_across_splits)} image(s) appear byte-identical in more than one split; "
            "test/val accuracy would be inflated"
        )
    if result.corrupt:
        problems.append(f"{len(result.corrupt)} file(s) cannot be decoded and would be skipped by training")
    return problems


def print_inspection(result: Inspection, out: Console) -> None:
    """Rich tables: counts per class and split, image sizes, then duplicates, corrupt files and problems."""
    out.print(f"[bold]{escape(result.root)}[/]", highlight=False)
    counts = Table(title="Images per class")
    counts.add_column("class")
    for split in result.counts:
        counts.add_column(split, justify="right")
    for name in result.class_names:
        counts.add_row(escape(name), *(str(result.counts[s].get(name, 0)) for s in result.counts))
    counts.add_row("[bold]total", *(f"[bold]{sum(c.values())}" for c in result.counts.values()))
    out.print(counts)
    sizes = result.sizes
    if sizes["count"]:
        table = Table(title="Image sizes", caption=f"{sizes['count']} readable images")
        for column in ("", "min", "median", "max"):
            table.add_column(column, justify="right")
        for axis in ("width", "height"):
            table.add_row(axis, *(f"{sizes[axis][k]:g}" for k in ("min", "median", "max")))
        out.print(table)
        common = ", ".join(f"{c['size']} ({c['count']})" for c in sizes["most_common"])
        out.print(f"Most common sizes: {common}", highlight=False)
    for title, rows in (
        ("Duplicates across splits", [" = ".join(group) for group in result.duplicates_across_splits]),
        ("Corrupt files", [f"{c['path']}: {c['reason']}" for c in result.corrupt]),
    ):
        if rows:
            out.print(f"[bold red]{title}[/] ({len(rows)}):")
            for row in rows[:SHOWN_FILES]:
                out.print(f"  {row}", markup=False, highlight=False)
            if len(rows) > SHOWN_FILES:
                out.print(f"  ... and {len(rows) - SHOWN_FILES} more (all in the JSON report)")
    if result.duplicates_within_splits:
        out.print(f"[yellow]note:[/] {result.duplicates_within_splits} duplicate file(s) within a split")
    if result.problems:
        out.print("[bold red]Problems:[/]")
        for problem in result.problems:
            out.print(f"  - {problem}", markup=False, highlight=False)
    else:
        out.print("[bold green]No problems found.[/]")


def plot_samples(root: Path, result: Inspection, path: Path, per_class: int) -> None:
    """A grid with one row per class: the first ``per_class`` readable images of its first split."""
    trees = split_trees(root)
    split = "train" if "train" in trees else next(iter(trees))
    bad = {c["path"] for c in result.corrupt}
    images, captions = [], []
    for name in result.class_names:
        folder = trees[split] / name
        paths = (
            [p for p in iter_image_files(folder) if p.relative_to(root).as_posix() not in bad]
            if folder.is_dir()
            else []
        )
        row = [decode_image(p) for p in paths[:per_class]]
        blank = np.full((8, 8, 3), 255, dtype=np.uint8)  # keeps rows aligned when a class has few images
        images += row + [blank] * (per_class - len(row))
        captions += [name] + [""] * (per_class - 1)
    plot_image_grid(images, captions, path, per_class, f"Samples per class ({split})")


def inspect_command(
    root: Path, strict: bool = False, out: Path | None = None, samples: int = 8, imbalance_ratio: float = 3.0
) -> int:
    """Check an image folder before training: class counts, image sizes, duplicates, corrupt files.

    Args:
        root: ImageFolder tree: ROOT/train/<class>/... (optionally val/, test/) or ROOT/<class>/....
        strict: Exit with status 1 when anything is wrong: duplicates across splits, corrupt files,
            empty classes, or imbalance above imbalance_ratio.
        out: Folder for inspect.json (everything found) and samples.png (a grid of images per class).
        samples: Images per class in samples.png.
        imbalance_ratio: Largest/smallest class count of a split above which it counts as imbalanced.

    Returns:
        0, or 1 with --strict when a problem was found.
    """
    check_at_least(0, samples=samples)
    check_at_least(1, imbalance_ratio=imbalance_ratio)
    result = inspect_tree(Path(root), imbalance_ratio)
    print_inspection(result, console())
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plot_samples(Path(root).expanduser(), result, out / "samples.png", max(1, samples))
        write_json(out / "inspect.json", asdict(result))
    return 1 if strict and result.problems else 0
