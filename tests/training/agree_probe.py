"""Run by test_ranks.py, once per rank, started independently (as torchrun or a scheduler starts them):
every rank agrees on one decision through ``lightship.training.ranks.agree``, then opens the process group
on the same port, as Lightning does next, and proves it works with an all-reduce."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from lightship.training.ranks import agree

if __name__ == "__main__":
    out = Path(sys.argv[1])
    chosen = agree("probe", lambda: f"decided by pid {os.getpid()}")
    rank = int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("gloo", rank=rank, world_size=int(os.environ["WORLD_SIZE"]))
    total = torch.tensor([rank + 1.0])
    dist.all_reduce(total)
    dist.destroy_process_group()
    (out / f"rank{rank}.json").write_text(
        json.dumps({"chosen": chosen, "sum": total.item(), "pid": os.getpid()})
    )
