"""Atomic checkpoint writes: a killed run or a full disk never leaves a half-written ``.ckpt``."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from lightship.files import replacing


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written through :func:`lightship.files.replacing` (temp name, fsync, ``os.replace``).

    Lightning's default IO writes the destination in place, so a SIGKILL mid-write leaves a truncated file
    where the previous good checkpoint was.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        with replacing(path) as handle:
            torch.save(checkpoint, handle)
