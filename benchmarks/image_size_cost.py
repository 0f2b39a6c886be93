"""What ``--data.image_size`` costs: training images/s and prediction ms per photo, at 64 (the ``auto``
size without pretrained weights) and 224 (ResNet-18's and most ImageNet weights' input size).

Usage: python benchmarks/image_size_cost.py [--models resnet18,mobilenet_v3_small] [--sizes 64,224]
Training: the imagefolder recipe's step (AdamW, label smoothing, bf16 autocast on the CPU as in
configs/imagefolder.yaml), batch 32 of uint8 pixels through the lightship Classifier (resize and
normalisation inside), forward + backward + step. Prediction: the eager Classifier in eval mode, fp32, one
photo of 640 x 480 at a time (its resize included), the figure a ``lightship predict`` user sees per photo.
Weights do not change the cost, so the models are built untrained. Other processes sharing the cores
distort every figure: run it on an idle machine, and compare sizes from one run.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from lightship.models import ModelMeta
from lightship.training.config import OptimConfig
from lightship.training.module import build_optimizer


def classifier(model: str, size: int):
    meta = ModelMeta(model, 2, ["a", "b"], size, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    return meta.build()


def train_rate(model: str, size: int, batch: int = 32, steps: int = 6) -> float:
    """Training images/s (after two warm-up steps)."""
    net = classifier(model, size).train()
    optimizer = build_optimizer(net, OptimConfig(optimizer="adamw", lr=1e-3, weight_decay=0.05))
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    pixels = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8)
    labels = torch.randint(0, 2, (batch,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = criterion(net(pixels), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


@torch.inference_mode()
def predict_ms(model: str, size: int, runs: int = 20) -> float:
    """Median ms for one 640 x 480 photo through the eager classifier (fp32)."""
    net = classifier(model, size).eval()
    photo = torch.randint(0, 256, (1, 480, 640, 3), dtype=torch.uint8)
    for _ in range(3):
        net(photo)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        net(photo)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="resnet18,mobilenet_v3_small")
    parser.add_argument("--sizes", default="64,224")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    for model in args.models.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            print(
                f"{model:20s} image_size {size:4d}: train {train_rate(model, size):7.1f} images/s, "
                f"predict {predict_ms(model, size):6.1f} ms per 640x480 photo"
            )


if __name__ == "__main__":
    main()
