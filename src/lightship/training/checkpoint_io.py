"""Atomic checkpoint writes: a killed run or a full disk never leaves a half-written ``.ckpt``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write to ``NAME.tmp`` in the same folder, fsync, then ``os.replace`` onto the final name.

    Lightning's default IO writes the destination in place, so a SIGKILL mid-write leaves a truncated file
    where the previous good checkpoint was.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
