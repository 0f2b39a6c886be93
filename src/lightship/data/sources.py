"""The data-source table: a source's name (``--data.source``) -> the function that opens it.

An opener takes a :class:`~lightship.data.config.DataConfig` and returns a
:class:`~lightship.data.types.SourceData` (class names, and train/val/test splits of files, arrays or
shards); it finds and labels images, it does not decode them. Adding a source is one module with its
opener and one row here: the config's allowed values, ``--help`` and the conformance tests follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lightship.errors import DataError
from lightship.tables import Table


@dataclass(frozen=True)
class DataSource:
    target: str
    """``"module:function"`` of the opener."""


SOURCES: Table[DataSource] = Table(
    "data source",
    {
        "digits": DataSource("lightship.data.digits:open_digits"),
        "cifar10": DataSource("lightship.data.cifar10:open_cifar10"),
        "imagefolder": DataSource("lightship.data.imagefolder:open_imagefolder"),
        "shards": DataSource("lightship.data.shard_reader:open_shards"),
    },
    error=DataError,
)

#: The names ``DataConfig.source`` accepts (jsonargparse validates them and lists them in ``--help``).
SourceName = Literal[SOURCES.names()]
