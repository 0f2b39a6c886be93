"""Training speed on CIFAR-10: the record run, and Lightning's overhead against a plain PyTorch loop.

    python benchmarks/train_cifar10.py --data-root /path/to/cifar10-jpg            # both parts
    python benchmarks/train_cifar10.py --data-root ... --part overhead --epochs 2  # only the comparison

Part "full": ``lightship train --config configs/cifar10-fast.yaml`` in a subprocess with an empty decode
cache, timed from the command's start to its exit (first decode, training and the TTA test included).
Part "processes": one epoch with 1 process and with 2 DDP processes (gloo) on the CPU, images/s each.
Part "batch": the bare training step (forward, backward, Muon/SGD step; bf16 autocast) at several batch sizes,
images/s each: why the config trains with batches of 1000 on a CPU.
Part "overhead": the same net, batch size, precision, augmentation and data, trained for ``--epochs``
by lightship (images/s from its summary.json) and by a hand-written loop in this script; prints the ratio.

Every images/s figure is also printed as a fraction of this machine's bf16 convolution throughput, measured
at the start in this process (``benchmarks/machine.py``): images/s x training FLOPs per image (forward and
backward, counted by torch's FlopCounterMode) / conv FLOP/s. The CPU's name is printed with it. A reader on
another CPU runs ``python benchmarks/machine.py`` and expects about that fraction of their own throughput.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from machine import conv_flops_per_second, cpu_name, step_flops

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "cifar10-fast.yaml"


def run_lightship(data_root: Path, out: Path, cache_dir: Path, extra: list[str]) -> tuple[float, dict]:
    cmd = [
        sys.executable,
        "-m",
        "lightship.cli",
        "train",
        "--config",
        str(CONFIG),
        "--data.root",
        str(data_root),
        "--data.cache_dir",
        str(cache_dir),
        "--out",
        str(out),
        *extra,
    ]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - started
    return wall, json.loads((out / "summary.json").read_text())


def plain_loop_images_per_second(data_root: Path, cache_dir: Path, epochs: int) -> float:
    """The same training step without Lightning: the baseline lightship must stay within 5% of."""
    import yaml

    from lightship.data import DataConfig, InMemoryLoader, load_split
    from lightship.data.config import AugmentConfig
    from lightship.models import ModelMeta
    from lightship.training import ClassifierModule, OptimConfig
    from lightship.training.module import build_optimizer, lr_factor

    raw = yaml.safe_load(CONFIG.read_text())
    data_cfg = DataConfig(
        **{
            **raw["data"],
            "augment": AugmentConfig(**raw["data"]["augment"]),
            "root": data_root,
            "cache_dir": cache_dir,
        }
    )
    optim = OptimConfig(**raw["optim"])
    train = load_split(data_cfg, "train")
    meta = ModelMeta(
        "airbench", len(train.class_names), train.class_names, 32, list(data_cfg.mean), list(data_cfg.std)
    )
    module = ClassifierModule.create(meta, optim)
    module.data_init(train.images[:5000])
    model, net = module.model, module.model.net
    loader = InMemoryLoader(
        train.images, train.labels, data_cfg.batch_size, train=True, augment=data_cfg.augment, seed=0
    )
    opt = build_optimizer(model, optim)
    total = epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(optim, s, total))
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=optim.label_smoothing)
    images, seconds = 0, 0.0
    model.train()
    for epoch in range(epochs):
        net.set_epoch(epoch)
        loader.set_epoch(epoch)
        started = time.perf_counter()
        for pixels, labels in loader:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = criterion(model(pixels), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            images += len(labels)
        seconds += time.perf_counter() - started
    return images / seconds


def _training_step(batch_size: int):
    """The config's model and optimiser, one training step on random uint8 images (the cost does not depend
    on the pixels): returns ``step()``."""
    import yaml

    from lightship.models import ModelMeta
    from lightship.training import ClassifierModule, OptimConfig
    from lightship.training.module import build_optimizer

    raw = yaml.safe_load(CONFIG.read_text())
    optim = OptimConfig(**raw["optim"])
    meta = ModelMeta("airbench", 10, [str(i) for i in range(10)], 32, raw["data"]["mean"], raw["data"]["std"])
    module = ClassifierModule.create(meta, optim)
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (batch_size, 32, 32, 3), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (batch_size,), generator=generator)
    module.data_init(pixels)
    model, opt = module.model.train(), build_optimizer(module.model, optim)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=optim.label_smoothing)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = criterion(model(pixels), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def step_images_per_second(batch_size: int, steps: int = 4) -> float:
    """Images/s of the bare training step (forward, backward, optimiser) at ``batch_size``."""
    step = _training_step(batch_size)
    for _ in range(2):  # oneDNN picks and caches its kernels on the first calls
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - started)


def training_flops_per_image(batch_size: int = 100) -> float:
    """FLOPs of one training step per image (forward and backward of the config's airbench)."""
    return step_flops(_training_step(batch_size)) / batch_size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", type=Path, required=True, help="the unpacked cifar10-jpg folder")
    parser.add_argument("--part", choices=["all", "full", "batch", "overhead", "processes"], default="all")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each overhead measurement")
    parser.add_argument("--seed", type=int, default=0, help="seed of the full run")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench")
    args = parser.parse_args()
    conv = conv_flops_per_second()
    per_image = training_flops_per_image()
    print(
        f"{cpu_name()}, torch {torch.__version__}: bf16 conv {conv / 1e9:.1f} GFLOP/s measured now; "
        f"training costs {per_image / 1e6:.0f} MFLOP per image"
    )
    results: dict[str, float] = {
        "conv_gflops": round(conv / 1e9, 2),
        "training_mflop_per_image": round(per_image / 1e6, 1),
    }

    def of_conv(images_per_second: float) -> str:
        """images/s as the fraction of the measured conv throughput it uses: comparable across CPUs."""
        return f"{images_per_second * per_image / conv * 100:.0f}% of the measured bf16 conv throughput"

    if args.part in {"all", "batch"}:
        for batch_size in (250, 500, 1000, 2000):
            rate = step_images_per_second(batch_size, steps=max(2, 4000 // batch_size))
            results[f"step_images_per_second_batch_{batch_size}"] = round(rate, 1)
            print(f"batch {batch_size}: {rate:.0f} images/s (bare training step), {of_conv(rate)}")
    if args.part in {"all", "overhead"}:
        with tempfile.TemporaryDirectory() as cache:
            cache_dir = Path(cache)
            _, summary = run_lightship(
                args.data_root,
                args.out / "overhead",
                cache_dir,
                ["--trainer.max_epochs", str(args.epochs), "--tta", "0"],
            )
            plain = plain_loop_images_per_second(args.data_root, cache_dir, args.epochs)
        ours = summary["train_images_per_second"]
        results.update(
            lightship_images_per_second=ours,
            plain_images_per_second=round(plain, 1),
            ratio=round(ours / plain, 3),
        )
        print(
            f"overhead: lightship {ours:.0f} images/s ({of_conv(ours)}), plain PyTorch loop {plain:.0f} "
            f"images/s, ratio {ours / plain:.3f} (target >= 0.95)"
        )
    if args.part in {"all", "processes"}:
        # One epoch with 1 process, then 2 DDP processes (gloo) sharing the same cores.
        with tempfile.TemporaryDirectory() as cache:
            rates = {}
            for n in (1, 2):
                extra = [
                    "--trainer.max_epochs",
                    "1",
                    "--tta",
                    "0",
                    "--trainer.accelerator",
                    "cpu",
                    "--trainer.devices",
                    str(n),
                ]
                if n > 1:
                    extra += ["--trainer.strategy", "ddp"]
                _, summary = run_lightship(args.data_root, args.out / f"processes-{n}", Path(cache), extra)
                rates[n] = summary["train_images_per_second"]
        results.update(one_process_images_per_second=rates[1], two_processes_images_per_second=rates[2])
        print(
            f"processes: 1 process {rates[1]:.0f} images/s, 2 DDP processes {rates[2]:.0f} images/s "
            f"(ratio {rates[2] / rates[1]:.2f})"
        )
    if args.part in {"all", "full"}:
        with tempfile.TemporaryDirectory() as cache:
            wall, summary = run_lightship(
                args.data_root, args.out / "full", Path(cache), ["--seed", str(args.seed)]
            )
        results.update(
            full_wall_seconds=round(wall, 1),
            test_acc=summary["test_acc"],
            test_acc_no_tta=summary["test_acc_no_tta"],
            train_seconds=summary["train_seconds"],
            full_images_per_second=summary["train_images_per_second"],
        )
        print(
            f"full: test accuracy {100 * summary['test_acc']:.2f}% (no TTA {100 * summary['test_acc_no_tta']:.2f}%) "
            f"in {wall:.1f} s wall-clock, command start to exit (targets: >= 91.0% in <= 600 s); "
            f"training {summary['train_seconds']:.1f} s at {summary['train_images_per_second']:.0f} images/s "
            f"({of_conv(summary['train_images_per_second'])})"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
