"""Run by test_distributed.py as ``python ddp_probe.py OUT CACHE``: a real 2-process DDP (gloo) training.

Lightning's DDP launcher starts the second process by running this same script again, as a user's
script would be. Each rank writes the sample indices its loader produced for every epoch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning as L

from lightship.data.config import AugmentConfig, DataConfig
from lightship.training import ModelConfig, OptimConfig, TrainConfig, train


class RecordIndices(L.Callback):
    def __init__(self, out: Path) -> None:
        self.out = out
        self.seen: dict[int, list[int]] = {}

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loader = trainer.train_dataloader
        epoch = trainer.current_epoch
        self.seen[epoch] = loader._indices(epoch).tolist()
        meta = {"rank": loader.rank, "world_size": loader.world_size, "seen": self.seen}
        (self.out / f"indices-rank{trainer.global_rank}.json").write_text(json.dumps(meta))


if __name__ == "__main__":
    out, cache = Path(sys.argv[1]), Path(sys.argv[2])
    config = TrainConfig(
        data=DataConfig(source="digits", batch_size=32, cache_dir=cache, augment=AugmentConfig(flip="none")),
        model=ModelConfig(name="airbench", kwargs={"widths": [16, 32, 32]}),
        optim=OptimConfig(lr=0.2, momentum=0.9, warmup_fraction=0.2),
        trainer={
            "accelerator": "cpu",
            "devices": 2,
            "strategy": "ddp",
            "max_epochs": 2,
            "enable_progress_bar": False,
            "enable_model_summary": False,
        },
        out=out / "run",
    )
    train(config, callbacks=[RecordIndices(out)])
