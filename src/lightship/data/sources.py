"""The data-source table: a source's name (``--data.source``) -> the function that opens it.

An opener takes a :class:`~lightship.data.config.DataConfig` and returns a
:class:`~lightship.data.types.SourceData` (class names, and train/val/test splits of files, arrays or
shards); it finds and labels images, it does not decode them. Adding a source is one module with its
opener and one row here: the config's allowed values, ``--help`` and the conformance tests follow.
"""

from __future__ import annotations

from typing import Literal

from lightship.errors import DataError
from lightship.tables import Row, Table

#: A row's ``target`` is the opener, ``"module:function"``.
SOURCES: Table[Row] = Table(
    "data source",
    {
        "digits": Row(target="lightship.data.digits:open_digits"),
        "cifar10": Row(target="lightship.data.cifar10:open_cifar10"),
        "imagefolder": Row(target="lightship.data.imagefolder:open_imagefolder"),
        "shards": Row(target="lightship.data.shard_reader:open_shards"),
    },
    error=DataError,
)

#: The names ``DataConfig.source`` accepts (jsonargparse validates them and lists them in ``--help``).
SourceName = Literal[SOURCES.names()]
