"""What machine a figure was measured on, and how fast its CPU runs a convolution: so a reader on another CPU
can scale a training figure by the ratio of the two machines' measured bf16 convolution throughput.

    python benchmarks/machine.py        # prints the CPU and its bf16 conv FLOP/s
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

#: airbench's widest convolution (256 -> 256 channels, 3x3, 16x16 feature maps), the bulk of its FLOPs.
CONV_SHAPE = {"batch": 256, "channels": 256, "size": 16}


def cpu_name() -> str:
    """The CPU's model name and the cores this process may use, e.g. "AMD EPYC (2 cores)"."""
    name = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name} ({torch.get_num_threads()} threads)"


def conv_flops_per_second(seconds: float = 3.0) -> float:
    """Forward bf16 (autocast) throughput of :data:`CONV_SHAPE` in FLOP/s (2 per multiply-add), measured now
    in this process with torch's own threads, after two warm-up calls."""
    n, c, s = CONV_SHAPE["batch"], CONV_SHAPE["channels"], CONV_SHAPE["size"]
    conv = torch.nn.Conv2d(c, c, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
    x = torch.randn(n, c, s, s).to(memory_format=torch.channels_last)
    flops = 2 * n * c * c * 9 * s * s
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for _ in range(2):
            conv(x)
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            conv(x)
            calls += 1
        elapsed = time.perf_counter() - started
    return flops * calls / elapsed


def step_flops(step: Callable[[], None]) -> int:
    """FLOPs of one call of ``step`` (forward and backward), counted by torch's FlopCounterMode."""
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


if __name__ == "__main__":
    print(f"{cpu_name()}: bf16 conv {conv_flops_per_second() / 1e9:.1f} GFLOP/s")
