"""CIFAR-10 from the official python release, read straight from the archive or the extracted folder.

The release is a set of pickles (as torchvision also reads them): only point this at files you trust.
"""

from __future__ import annotations

import pickle
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from lightship.data.config import DataConfig
from lightship.data.splits import stratified_split
from lightship.data.types import ArraySplit, SourceData
from lightship.errors import DataError

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"


def open_cifar10(config: DataConfig) -> SourceData:
    """Train = data_batch_1..5 minus a seeded, stratified ``val_fraction``; test = test_batch."""
    root = _locate(config)
    batches = dict(_read_batches(root))
    missing = [name for name in (*TRAIN_BATCHES, TEST_BATCH, META) if name not in batches]
    if missing:
        raise DataError(
            f"CIFAR-10 in {root} lacks {', '.join(missing)}; the release is incomplete. "
            f"Download {URL} again and put it at {root / ARCHIVE}."
        )
    class_names = [name.decode() for name in batches[META][b"label_names"]]
    train = _to_split([batches[name] for name in TRAIN_BATCHES])
    test = _to_split([batches[TEST_BATCH]])
    parts = stratified_split(train.labels, {"val": config.val_fraction}, config.seed)
    return SourceData(
        class_names=class_names,
        splits={"train": train.subset(parts["train"]), "val": train.subset(parts["val"]), "test": test},
    )


def looks_like(root: Path) -> bool:
    """Whether ``root`` holds the release (the archive or the extracted folder), for ``--data.source auto``."""
    return (root / FOLDER).is_dir() or (root / ARCHIVE).is_file()


def _locate(config: DataConfig) -> Path:
    """The root holding the archive or the folder, downloading first when allowed."""
    where = f"{ARCHIVE} or {FOLDER}/ (from {URL})"
    if config.download and config.root is not None:
        Path(config.root).expanduser().mkdir(parents=True, exist_ok=True)
    root = config.root_folder(where)
    if looks_like(root):
        return root
    if config.download:
        _download(root)
        return root
    raise DataError(
        f"CIFAR-10 not found in {root}: expected {root / ARCHIVE} or {root / FOLDER}/. "
        f"Download {URL} and put it at {root / ARCHIVE} (no need to extract it), or set --data.download true."
    )


def _download(root: Path) -> None:
    """Fetch and extract the release with torchvision (it checks the archive's MD5)."""
    from torchvision.datasets import CIFAR10

    try:
        CIFAR10(root=str(root), download=True)
    except Exception as exc:  # network errors come as URLError, OSError, RuntimeError...
        raise DataError(
            f"could not download CIFAR-10 into {root} ({exc}). Without network access, download {URL} "
            f"elsewhere and put it at {root / ARCHIVE}."
        ) from exc


def _read_batches(root: Path) -> Iterator[tuple[str, dict[bytes, Any]]]:
    """(name, unpickled dict) for each batch file, preferring the extracted folder over the archive."""
    folder = root / FOLDER
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.name in (*TRAIN_BATCHES, TEST_BATCH, META):
                with path.open("rb") as handle:
                    yield path.name, _unpickle(handle, path)
        return
    archive = root / ARCHIVE
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = Path(member.name).name
                if member.isfile() and name in (*TRAIN_BATCHES, TEST_BATCH, META):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        yield name, _unpickle(handle, archive / member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{archive} is damaged ({exc}); delete it and download {URL} again.") from exc


def _unpickle(handle: IO[bytes], where: Path) -> dict[bytes, Any]:
    try:
        batch = pickle.load(handle, encoding="bytes")
    except Exception as exc:  # unpickling garbage raises many types
        raise DataError(f"{where} is not a CIFAR-10 pickle batch ({exc}); download {URL} again.") from exc
    if not isinstance(batch, dict):
        raise DataError(f"{where} is not a CIFAR-10 pickle batch; download {URL} again.")
    return batch


def _to_split(batches: list[dict[bytes, Any]]) -> ArraySplit:
    """Rows of 3072 bytes (R plane, G plane, B plane of 32x32) -> uint8 N x 32 x 32 x 3."""
    data = np.concatenate([np.asarray(b[b"data"], dtype=np.uint8) for b in batches])
    labels = np.concatenate([np.asarray(b[b"labels"], dtype=np.int64) for b in batches])
    images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return ArraySplit(images, labels)
