"""Real multi-process DDP on CPU (gloo), started the way a user starts it: a script and Lightning's launcher."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from PIL import Image

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


REPO = Path(__file__).resolve().parents[2]
SHORT = [
    "--trainer.max_epochs",
    "1",
    "--trainer.limit_train_batches",
    "2",
    "--trainer.limit_val_batches",
    "1",
    "--trainer.limit_test_batches",
    "1",
    "--trainer.enable_progress_bar",
    "false",
]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTSHIP_AGREED_")}
    return {**env, "PYTHONPATH": str(REPO / "src"), "LIGHTSHIP_CACHE": str(tmp_path / "cache")}


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def test_lightnings_launcher_ranks_share_one_numbered_run_folder(tmp_path: Path) -> None:
    """Without --out, under DDP, rank 0 numbers the folder once; the rank Lightning starts uses it too."""
    (tmp_path / "runs" / "digits-airbench").mkdir(parents=True)  # taken: this run must become ...2
    command = [
        sys.executable,
        "-m",
        "lightship.cli",
        "train",
        "--config",
        str(REPO / "configs" / "digits.yaml"),
    ]
    ddp = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]
    done = subprocess.run(
        [*command, *ddp, *SHORT, "--data.image_size", "16"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["digits-airbench", "digits-airbench2"]
    assert json.loads((tmp_path / "runs" / "digits-airbench2" / "summary.json").read_text())["devices"] == 2


def test_examples_torchrun_sh_on_one_machine_leaves_one_run_folder(tmp_path: Path) -> None:
    """examples/torchrun.sh as documented, on CPU: torchrun starts both processes; they agree on one folder."""
    digits = load_split(DataConfig(source="digits", image_size=32), "train")
    for index, (image, label) in enumerate(zip(digits.images[:200], digits.labels[:200], strict=True)):
        for split in ("train", "test"):
            folder = tmp_path / "data" / "cifar10-jpg" / split / f"class{int(label)}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.numpy()).save(folder / f"{index}.jpg")
    env = {
        **_env(tmp_path),
        "NNODES": "1",
        "NODE_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": _free_port(),
        "GPUS": "2",
        "ACCELERATOR": "cpu",
        "DATA": str(tmp_path / "data"),
        # torchrun is installed beside this interpreter: on PATH for users of the venv, not for `make test`
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    (tmp_path / "configs").symlink_to(REPO / "configs")
    small = ["--model.name", "airbench", "--data.batch_size", "32", "--trainer.precision", "32-true"]
    done = subprocess.run(
        ["bash", str(REPO / "examples" / "torchrun.sh"), *small, *SHORT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["imagefolder-airbench"]
    summary = json.loads((tmp_path / "runs" / "imagefolder-airbench" / "summary.json").read_text())
    assert summary["devices"] == 2 and set(summary["checkpoints"]) == {"best", "last"}
