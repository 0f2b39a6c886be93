"""Callbacks lightship adds to every run: airbench's lookahead and an honest images/s meter."""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import torch


class Lookahead(L.Callback):
    """airbench94's lookahead-EMA: every ``every`` steps, ``ema <- lerp(ema, w, 1 - decay)`` and
    ``w <- ema``, with ``decay = 0.95**5 * (step / total)**3``; the final step ends on the EMA weights.
    Its state is saved in the checkpoint, so a resumed run continues the same average."""

    def __init__(self, every: int = 5) -> None:
        self.every = every
        self.ema: dict[str, torch.Tensor] | None = None

    def _float_state(self, pl_module: L.LightningModule) -> dict[str, torch.Tensor]:
        state = pl_module.model.state_dict()
        return {k: v for k, v in state.items() if v.is_floating_point()}

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state = self._float_state(pl_module)
        if self.ema is None:
            self.ema = {k: v.detach().clone() for k, v in state.items()}
        else:  # restored from a checkpoint: move to the training device
            self.ema = {k: self.ema[k].to(v.device) for k, v in state.items()}

    @torch.no_grad()
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        step, total = trainer.global_step, max(1, int(trainer.estimated_stepping_batches))
        if step % self.every and step < total:
            return
        decay = 1.0 if step >= total else 0.95**5 * (step / total) ** 3
        for name, weight in self._float_state(pl_module).items():
            ema = self.ema[name]
            ema.lerp_(weight, 1 - decay)
            weight.copy_(ema)

    def state_dict(self) -> dict[str, Any]:
        return {"ema": self.ema}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.ema = state_dict["ema"]


class ImagesPerSecond(L.Callback):
    """Counts training images and the time from each epoch's start to its last training batch, so
    validation (which Lightning runs before ``on_train_epoch_end``) is excluded."""

    def __init__(self) -> None:
        self.images = 0
        self.seconds = 0.0
        self._start = self._last = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = self._last = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.images += len(batch[1]) * trainer.world_size
        self._last = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds += self._last - self._start

    @property
    def rate(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0
