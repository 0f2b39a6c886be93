"""Reading WebDataset shards (``--data.source shards``): the index format, then one webdataset pipeline per epoch.

Pipeline per rank and DataLoader worker: the rank's share of the shards (every world_size-th), then the
worker's share of that, shards shuffled, samples shuffled in a buffer, each decoded with
:func:`lightship.images.decode_image` and resized with the one resize policy (webdataset's own decoders
are not used: one decoding policy everywhere), then the same v2 augmentation as the file stream path.

Epochs and DDP: Lightning needs the same number of batches on every rank, but shards hold different
numbers of samples. So a training epoch is defined by count, not by shards: every worker of every rank
yields exactly ``batches_per_worker(...) * batch_size`` samples (``with_epoch``; a worker whose shards run
out starts over on them), computed from the index counts, the world size and the workers.

Resuming: the shard and buffer order of epoch ``e`` depend only on (seed, e, rank, worker), and a loader
starts counting at the trainer's epoch, so a run resumed from a checkpoint replays the interrupted epoch
from its start: shards resume at epoch granularity.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from torchvision.transforms import v2

from lightship.data.config import DataConfig
from lightship.data.decode import resize_images
from lightship.data.loaders import mix_seeds
from lightship.data.types import SPLITS, ShardSplit, SourceData
from lightship.errors import DataError
from lightship.images import IMAGE_EXTENSIONS, ImageDecodeError, decode_image

log = logging.getLogger(__name__)

#: The shard folder's index (written last by :mod:`lightship.data.shard_writer`): class names, per split
#: its shard names and sample counts, the lightship version. ``FORMAT`` identifies a lightship shard index
#: and its layout version, so a foreign index.json is refused.
INDEX = "index.json"
FORMAT = "lightship-shards/1"


#: A shard file name as index.json may list it: a plain name (no folder separators, no shell
#: metacharacters, no leading dot or dash), since names from the index end up in URLs and ``pipe:`` commands.
SHARD_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}")


def check_shard_name(name: object, index: str) -> str:
    """``name`` when it is a plain shard file name, else a DataError naming the index and the entry."""
    if not isinstance(name, str) or not SHARD_NAME.fullmatch(name):
        raise DataError(
            f"{index} lists the shard {name!r}, which is not a plain file name (letters, digits, '_', '.', "
            "'+', '-'; no folders, spaces or shell characters); refusing to read it. Rewrite the index "
            "with 'lightship data shard'."
        )
    return name


def shard_location(config: DataConfig, name: str) -> str:
    """Where file ``name`` of the shard folder is read: ``url`` (prefix or {name} template) or ``root``.

    In a ``pipe:`` template the name is shell-quoted as well (it is checked by :func:`check_shard_name`
    already; quoting keeps the command safe should that check ever be loosened).
    """
    if config.url:
        if "{name}" in config.url:
            quoted = shlex.quote(name) if config.url.startswith("pipe:") else name
            return config.url.replace("{name}", quoted)
        return f"{config.url.rstrip('/')}/{name}"
    if config.root is None:
        raise DataError(
            "data source 'shards' needs --data.root (a folder written by 'lightship data shard') "
            "or --data.url (where that folder's files are served)."
        )
    return str(Path(config.root).expanduser() / name)


def looks_like(root: Path) -> bool:
    """Whether ``root`` is a shard folder (it has the index), for ``--data.source auto``."""
    return (root / INDEX).is_file()


def read_index(config: DataConfig) -> dict:
    """The shard folder's index.json, through webdataset's opener (so URLs and pipe: work too)."""
    import webdataset as wds

    location = shard_location(config, INDEX)
    try:
        with wds.gopen(location, "rb") as stream:
            index = json.load(stream)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"cannot read the shard index {location}: {exc}; write it with 'lightship data shard'."
        ) from exc
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise DataError(f"{location} is not a lightship shard index (format {FORMAT}).")
    return index


def open_shards(config: DataConfig) -> SourceData:
    """Class names and per-split shard locations and counts from index.json (nothing else is read).

    The splits are those fixed when sharding; val_fraction and test_fraction do not apply.
    """
    if config.root is not None and config.url:
        raise DataError("set either --data.root or --data.url for the shards source, not both.")
    index = read_index(config)
    where = shard_location(config, INDEX)
    splits: dict[str, ShardSplit] = {}
    for name in SPLITS:
        entry = index["splits"].get(name, {"shards": [], "counts": []})
        names = [check_shard_name(shard, where) for shard in entry["shards"]]
        counts = entry["counts"]
        if len(counts) != len(names) or not all(isinstance(c, int) and c >= 0 for c in counts):
            raise DataError(f"{where}: split {name!r} needs one sample count (an integer >= 0) per shard.")
        splits[name] = ShardSplit([shard_location(config, shard) for shard in names], list(counts))
    if len(splits["train"]) == 0:
        raise DataError(f"the shard index {shard_location(config, INDEX)} lists no training images.")
    if not config.url:
        missing = [url for split in splits.values() for url in split.urls if not Path(url).is_file()]
        if missing:
            raise DataError(f"{len(missing)} shard(s) listed in index.json are missing, e.g. {missing[0]}.")
    return SourceData(class_names=list(index["class_names"]), splits=dict(splits))


def split_by_rank(urls: Iterable, rank: int, world_size: int) -> Iterator:
    """Every ``world_size``-th shard from ``rank``: the rank's disjoint share (webdataset nodesplitter).

    Given explicitly rather than webdataset's ``split_by_node``, which reads the rank from environment
    variables or torch.distributed, neither of which is reliably set inside DataLoader workers.
    """
    return islice(urls, rank, None, world_size)


def batches_per_worker(total: int, batch_size: int, world_size: int, workers: int) -> int:
    """Full training batches each DataLoader worker of each rank yields per epoch (the same everywhere)."""
    return total // (world_size * max(1, workers) * batch_size)


def _worker() -> tuple[int, int]:
    info = get_worker_info()
    return (info.id, info.num_workers) if info is not None else (0, 1)


def decode_samples(
    samples: Iterable[dict], image_size: int, transform: v2.Compose | None, resize: str = "squash"
) -> Iterator[tuple[torch.Tensor, int]]:
    """webdataset samples -> (uint8 H x W x 3 tensor, label); a bad sample is skipped, warned once per worker."""
    warned = False
    for sample in samples:
        name = f"{sample.get('__url__', '?')}:{sample.get('__key__', '?')}"
        try:
            suffix = next(k for k in sample if f".{k}" in IMAGE_EXTENSIONS)
            label = int(sample["cls"])
            pixels = resize_images(decode_image(sample[suffix], source=name)[None], image_size, resize)[0]
        except (StopIteration, KeyError, ValueError) as exc:  # ImageDecodeError is a ValueError
            if not warned:
                warned = True
                reason = exc.reason if isinstance(exc, ImageDecodeError) else f"no image or class ({exc!r})"
                log.warning(
                    "skipping bad shard sample %s: %s (further ones are skipped silently)", name, reason
                )
            continue
        tensor = torch.from_numpy(pixels)
        if transform is not None:
            tensor = transform(tensor.permute(2, 0, 1)).permute(1, 2, 0).contiguous()
        yield tensor, label


def _pipeline(urls: list[str], rank: int, world_size: int, **kwargs):
    import webdataset as wds

    return wds.WebDataset(
        urls,
        nodesplitter=partial(split_by_rank, rank=rank, world_size=world_size),
        workersplitter=wds.split_by_worker,
        handler=wds.warn_and_continue,  # an unreadable shard or tar member must not stop the epoch
        empty_check=False,
        **kwargs,
    )


class ShardTrainStream(IterableDataset):
    """Training samples of one rank: shuffled, augmented, a fixed count per worker and epoch."""

    def __init__(
        self,
        split: ShardSplit,
        image_size: int,
        transform: v2.Compose | None,
        *,
        batch_size: int,
        num_workers: int,
        shuffle_buffer: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        start_epoch: int = 0,
        resize: str = "squash",
    ) -> None:
        workers = max(1, num_workers)
        if len(split.urls) < world_size * workers:
            raise DataError(
                f"{len(split.urls)} training shard(s) cannot feed {world_size} process(es) x {workers} data "
                "worker(s), each needing its own; reshard with a smaller --shard_size or lower "
                "--data.num_workers."
            )
        self.per_worker = batches_per_worker(len(split), batch_size, world_size, workers) * batch_size
        if self.per_worker == 0:
            raise DataError(
                f"{len(split)} training images give no full batch of {batch_size} per data worker on "
                f"{world_size} process(es) x {workers} worker(s); lower --data.batch_size or --data.num_workers."
            )
        self.urls = split.urls
        self.length = self.per_worker * workers
        self.image_size = image_size
        self.resize = resize
        self.transform = transform
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = start_epoch

    def __len__(self) -> int:
        """Samples of this rank per epoch (all workers)."""
        return self.length

    def __iter__(self) -> Iterator[tuple[torch.Tensor, int]]:
        # Each (persistent) worker holds its own copy of this object and counts epochs itself.
        epoch, self.epoch = self.epoch, self.epoch + 1
        worker, _ = _worker()
        pipeline = _pipeline(
            self.urls,
            self.rank,
            self.world_size,
            shardshuffle=len(self.urls),
            seed=mix_seeds(self.seed, epoch),
        )
        pipeline = pipeline.shuffle(self.shuffle_buffer, seed=mix_seeds(self.seed, epoch, self.rank, worker))
        pipeline = pipeline.compose(
            partial(decode_samples, image_size=self.image_size, transform=self.transform, resize=self.resize)
        )
        return iter(pipeline.with_epoch(self.per_worker))


class ShardEvalStream(IterableDataset):
    """Evaluation samples of one rank: its shards in order, each sample once, no augmentation.

    Deliberately without ``__len__``: ranks and workers hold different numbers of samples, and an
    unsized loader is read to its end instead of being cut at a guessed length.
    """

    def __init__(
        self,
        split: ShardSplit,
        image_size: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        resize: str = "squash",
    ) -> None:
        self.urls = split.urls
        self.image_size = image_size
        self.resize = resize
        self.rank = rank
        self.world_size = world_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, int]]:
        pipeline = _pipeline(self.urls, self.rank, self.world_size, shardshuffle=False)
        return decode_samples(pipeline, self.image_size, None, self.resize)


def shard_loader(
    split: ShardSplit,
    config: DataConfig,
    transform: v2.Compose | None,
    *,
    train: bool,
    rank: int = 0,
    world_size: int = 1,
    epoch: int = 0,
) -> DataLoader:
    """A DataLoader over this rank's shards; ``epoch`` is the epoch its first iteration belongs to."""
    if train:
        dataset: IterableDataset = ShardTrainStream(
            split,
            config.image_size,
            transform,
            batch_size=config.batch_size,
            num_workers=config.num_workers,
            shuffle_buffer=config.shuffle_buffer,
            seed=config.seed,
            rank=rank,
            world_size=world_size,
            start_epoch=epoch,
            resize=config.resize,
        )
    else:
        dataset = ShardEvalStream(
            split, config.image_size, rank=rank, world_size=world_size, resize=config.resize
        )
    return DataLoader(
        dataset,
        batch_size=config.batch_size if train else config.eval_batch_size,
        num_workers=config.num_workers,
        persistent_workers=config.num_workers > 0,
    )


def read_shard_images(
    split: ShardSplit, image_size: int, limit: int | None = None, resize: str = "squash"
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` (default all) good samples in shard order, unaugmented: uint8 N x S x S x 3, labels.

    Used for mean/std and data-dependent initialisation (the first samples of shuffled shards are a
    random sample) and to load a split in memory for evaluation or export.
    """
    import webdataset as wds

    # No node or worker splitting: every rank reads the same samples here.
    pipeline = wds.WebDataset(split.urls, nodesplitter=None, workersplitter=None, shardshuffle=False)
    samples = list(islice(decode_samples(pipeline, image_size, None, resize), limit))
    if not samples:
        return np.empty((0, image_size, image_size, 3), dtype=np.uint8), np.empty(0, dtype=np.int64)
    images = np.stack([image.numpy() for image, _ in samples])
    return images, np.asarray([label for _, label in samples], dtype=np.int64)
