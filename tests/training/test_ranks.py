"""All processes of a run agree on rank 0's decision, however they were started, and the process group
Lightning opens afterwards still works on the same port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("agree_probe.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTSHIP_AGREED_", "TORCHELASTIC"))}
    return {**env, "PYTHONPATH": f"{SRC}{os.pathsep}{env.get('PYTHONPATH', '')}", **extra}


def _results(out: Path) -> list[dict]:
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_independently_started_processes_take_rank_zeros_decision(tmp_path: Path) -> None:
    """No agent store: rank 0 serves the store, keeps it, and the process group shares its server."""
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(PROBE), str(tmp_path)],
            env=_env(
                LOCAL_RANK=str(r), NODE_RANK="0", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=port
            ),
        )
        for r in (1, 0)  # the other rank first: it must wait for rank 0
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    zero, one = _results(tmp_path)
    assert zero["chosen"] == one["chosen"] == f"decided by pid {zero['pid']}"
    assert zero["sum"] == one["sum"] == 3.0


def test_torchrun_ranks_take_rank_zeros_decision_through_the_agent_store(tmp_path: Path) -> None:
    port = str(_free_port())
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port]
    done = subprocess.run(
        [*command, str(PROBE), str(tmp_path)], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    zero, one = _results(tmp_path)
    assert zero["chosen"] == one["chosen"] == f"decided by pid {zero['pid']}"
    assert zero["sum"] == one["sum"] == 3.0


def test_a_decision_is_not_taken_over_by_an_unrelated_later_process(tmp_path: Path) -> None:
    """A program that trained, then starts another lightship run: the child decides for itself."""
    script = (
        "import os, subprocess, sys\n"
        "from lightship.training.ranks import agree\n"
        "print(agree('probe', lambda: 'parent'))\n"
        'child = \'from lightship.training.ranks import agree; print(agree("probe", lambda: "child"))\'\n'
        "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True).stdout.strip())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["parent", "child"], done.stderr
