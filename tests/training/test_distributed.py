"""Real multi-process DDP on CPU (gloo), started the way a user starts it: a script and Lightning's launcher."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from lightship.data import load_split
from lightship.data.config import DataConfig
from lightship.training import load_classifier

PROBE = Path(__file__).with_name("ddp_probe.py")


def test_two_process_ddp_shards_data_reduces_metrics_and_leaves_a_loadable_checkpoint(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, str(PROBE), str(tmp_path), str(cache)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]

    ranks = [json.loads((tmp_path / f"indices-rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    for epoch in ("0", "1"):
        a, b = (set(r["seen"][epoch]) for r in ranks)
        assert a and b and not a & b, f"ranks overlap in epoch {epoch}"
        assert len(a) == len(b)
    assert ranks[0]["seen"]["0"] != ranks[0]["seen"]["1"], "each epoch must reshuffle"

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["devices"] == 2
    # Rank 0's test accuracy is reduced over both ranks: it equals a single-process evaluation of the whole split.
    model, _ = load_classifier(tmp_path / "run")
    test = load_split(DataConfig(source="digits", cache_dir=cache), "test")
    with torch.no_grad():
        correct = (model(test.images).argmax(1) == test.labels).float()
    # Like DistributedSampler, an odd-sized split is padded by wrapping around to its first samples.
    pad = (-len(correct)) % 2
    reduced = (correct.sum() + correct[:pad].sum()) / (len(correct) + pad)
    assert abs(reduced.item() - summary["test_acc"]) < 1e-6
