"""``--data.source auto``: which source a root folder holds, decided from what is in it and said aloud.

No root means the built-in digits (the offline demo data); a root is matched against the layout of every
source in the table (:data:`lightship.data.sources.SOURCES`); a folder that matches none, or several, is an
error naming the layouts. A root is never silently ignored in favour of the built-in data.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from lightship.console import escape
from lightship.data.config import DataConfig
from lightship.data.sources import BUILT_IN, SOURCES
from lightship.errors import DataError
from lightship.tables import load_target

#: Environment variables that give a process's rank under torchrun, SLURM or Lightning's launcher: the
#: choice is printed once per run, by rank 0.
_RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK")


def detect_source(root: Path) -> str:
    """The one source whose layout ``root`` holds, or a DataError naming every layout."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"data root {root} does not exist or is not a folder.")
    found = [name for name, row in SOURCES.items() if row.detect and load_target(row.detect)(root)]
    if len(found) == 1:
        return found[0]
    layouts = "; ".join(f"{name}: {row.layout}" for name, row in SOURCES.items() if row.layout)
    if found:
        raise DataError(
            f"{root} matches the layouts of {' and '.join(found)}; choose one with --data.source ({layouts})."
        )
    raise DataError(f"{root} holds none of the data layouts lightship reads ({layouts}).")


def resolve_source(config: DataConfig, announce: bool = True) -> DataConfig:
    """``config`` with ``source`` decided when it is ``auto`` (and the choice printed by rank 0)."""
    if config.source != "auto":
        return config
    if config.root is None:
        # A url names shards served elsewhere; nothing at all means the offline demo data.
        source = "shards" if config.url else BUILT_IN
        reason = (
            f"--data.url {config.url}" if config.url else "no --data.root, so the built-in handwritten digits"
        )
    else:
        source = detect_source(Path(config.root))
        reason = f"{Path(config.root).expanduser()} holds {SOURCES[source].layout}"
    if announce and all(os.environ.get(v, "0") == "0" for v in _RANK_VARIABLES):
        Console(stderr=True).print(f"data source {source}: {escape(reason)}", highlight=False)
    return replace(config, source=source)
