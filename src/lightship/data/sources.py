"""The data-source table: a source's name (``--data.source``) -> the function that opens it, and how to
recognise a root folder of that source (for ``--data.source auto``).

An opener takes a :class:`~lightship.data.config.DataConfig` and returns a
:class:`~lightship.data.types.SourceData` (class names, and train/val/test splits of files, arrays or
shards); it finds and labels images, it does not decode them. Adding a source is one module with its
opener (and, when it reads a folder, a ``looks_like(root) -> bool``) and one row here: the config's allowed
values, ``--help``, ``auto`` and the conformance tests follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lightship.errors import DataError
from lightship.tables import Row, Table


@dataclass(frozen=True, kw_only=True)
class Source(Row):
    """A data source; its ``target`` is the opener, ``"module:function"``."""

    layout: str | None = None
    """What a root folder of this source holds, in the words of an error message; None: reads no folder."""
    detect: str | None = None
    """``"module:function"`` taking a root folder and saying whether it holds this source's layout."""


SOURCES: Table[Source] = Table(
    "data source",
    {
        "digits": Source(target="lightship.data.digits:open_digits"),
        "cifar10": Source(
            target="lightship.data.cifar10:open_cifar10",
            layout="the CIFAR-10 python release: ROOT/cifar-10-python.tar.gz or ROOT/cifar-10-batches-py/",
            detect="lightship.data.cifar10:looks_like",
        ),
        "imagefolder": Source(
            target="lightship.data.imagefolder:open_imagefolder",
            layout="class folders of images: ROOT/train/<class>/ (optionally val/, test/) or ROOT/<class>/",
            detect="lightship.data.imagefolder:looks_like",
        ),
        "shards": Source(
            target="lightship.data.shard_reader:open_shards",
            layout="WebDataset shards written by `lightship data shard`: ROOT/index.json and ROOT/*.tar",
            detect="lightship.data.shard_reader:looks_like",
        ),
    },
    error=DataError,
)

#: Without a root, ``auto`` means the built-in offline data (the demo's default).
BUILT_IN = "digits"

#: The names ``DataConfig.source`` accepts (jsonargparse validates them and lists them in ``--help``):
#: ``auto`` (decided from the root folder, see :mod:`lightship.data.detect`) or a row of the table.
SourceName = Literal[("auto", *SOURCES.names())]
