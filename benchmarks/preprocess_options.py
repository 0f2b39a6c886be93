"""Which single preprocessing? Round resized pixels inside every artifact, or stop rounding in the pipeline.

The data pipeline decodes each image once, resizes it to the model's size and stores uint8 levels (rounded).
Before issue 11 the artifacts resized in float and did not round, so an off-size image reached the network
as slightly different pixels in training and in every artifact. Two ways to make them one function:

- **A, round in the graph**: artifacts resize, then round and clamp to 0..255 as the pipeline does; the
  pipeline and its uint8 cache stay as they are. Two roundings: half to even (``torch.round``), and exact
  halves nudged upward (``(x + 1/256).round()``: what ships, ``lightship.models.classifier.to_levels``).
- **B, the pipeline stops rounding**: artifacts resize in float (as before); the pipeline keeps float
  pixels, so its cache holds float32 (4x the bytes) or float16 (2x, and no longer exact).

For each option this script feeds real test images, rescaled with Pillow to off sizes, through that option's
training data path (eager PyTorch) and through ONNX Runtime, OpenVINO (when installed) and TorchScript built
from that option's graph, and prints how far the network inputs (in uint8 levels) and the probabilities
land from the training path. The status quo before the change (pipeline rounds, graph does not) is the
last row. It also prints the decode cache's size per option.

    python benchmarks/preprocess_options.py RUN [--images 200]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from rich.console import Console
from rich.table import Table
from torch import nn

from lightship.data.prepare import load_split
from lightship.errors import MissingExtraError
from lightship.export.formats import FORMATS, ExportContext
from lightship.models import Classifier, InferenceWrapper
from lightship.models.classifier import resize_to, to_levels
from lightship.runtime.backends import open_backend
from lightship.training.checkpoint import load_trained

#: (height, width) of the rescaled copies: up, down, odd aspect ratios, one pixel wide.
SIZES = [(64, 64), (7, 120), (97, 83), (1, 50), (50, 1), (300, 200), (17, 23)]


def half_to_even(x: torch.Tensor) -> torch.Tensor:
    return x.round().clamp(0.0, 255.0)


def no_rounding(x: torch.Tensor) -> torch.Tensor:
    return x


class OptionWrapper(nn.Module):
    """An option's graph: resize, then ``levels`` (a rounding or none); outputs (probs, logits, pixels)."""

    def __init__(self, classifier: Classifier, levels: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.classifier = classifier
        self.levels = levels
        self.eval()

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pre = self.classifier.preprocess
        pixels = self.levels(resize_to(pre.to_float(images), pre.image_size))
        logits = self.classifier.net(pre.normalize(pixels))
        return self.classifier.probabilities(logits), logits, pixels


def rescaled(images: np.ndarray, labels: np.ndarray, count: int) -> list[tuple[np.ndarray, int]]:
    """``count`` real images rescaled with Pillow (bicubic) to the SIZES in turn."""
    out = []
    for i in range(count):
        h, w = SIZES[i % len(SIZES)]
        pil = Image.fromarray(images[i]).resize((w, h), Image.Resampling.BICUBIC)
        out.append((np.asarray(pil, dtype=np.uint8), int(labels[i])))
    return out


def training_path(
    classifier: Classifier, image: np.ndarray, levels: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[np.ndarray, np.ndarray]:
    """(pixels NCHW float, probs) as the data pipeline (resize, then ``levels``) and the trained model compute
    them."""
    x = classifier.preprocess.to_float(torch.from_numpy(image[None]))
    pixels = levels(resize_to(x, classifier.preprocess.image_size))
    with torch.inference_mode():
        logits = classifier.net(classifier.preprocess.normalize(pixels))
    return pixels.numpy(), classifier.probabilities(logits).numpy()


def measure(
    wrapper: nn.Module,
    classifier: Classifier,
    pipeline: Callable[[torch.Tensor], torch.Tensor],
    data: list[tuple[np.ndarray, int]],
    scratch: Path,
    formats: list[str],
) -> list[list[str]]:
    """One table row per runtime: network-input values that differ (share, max, in levels), max |Δprob|,
    top-1 agreement with the training path."""
    example = torch.from_numpy(np.stack([data[0][0]] * 2))
    rows = []
    reference = [training_path(classifier, image, pipeline) for image, _ in data]
    for name in formats:
        ctx = ExportContext(wrapper, example, scratch, np.zeros((0, 1, 1, 3), np.uint8), 20)
        path = scratch / f"{name}-{id(wrapper)}" / Path(FORMATS[name].file).name
        path.parent.mkdir(parents=True)
        backend = open_backend(FORMATS[name].runtime, FORMATS.load(name)(ctx, path).main, 1)
        off, total, worst, diff, agree = 0, 0, 0.0, 0.0, 0
        for (image, _), (pixels, probs) in zip(data, reference, strict=True):
            got_probs, _, got_pixels = backend.run(image[None])
            delta = np.abs(got_pixels - pixels)
            off += int((delta > 0).sum())
            total += delta.size
            worst = max(worst, float(delta.max()))
            diff = max(diff, float(np.abs(got_probs - probs).max()))
            agree += int(got_probs.argmax() == probs.argmax())
        rows.append(
            [
                name,
                f"{off / total * 100:.3f}%",
                f"{worst:.4f}",
                f"{diff:.1e}",
                f"{agree}/{len(data)}",
            ]
        )
    return rows


def _installed(name: str) -> bool:
    try:
        FORMATS[name].check_installed()
    except MissingExtraError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path, help="a trained run folder (its test split is used)")
    parser.add_argument("--images", type=int, default=210)
    args = parser.parse_args()
    torch.set_num_threads(1)
    console = Console()
    trained = load_trained(args.run, calibrate=False)
    config = trained.require_data_config()
    split = load_split(config, "test")
    order = np.random.default_rng(0).permutation(len(split.labels))[: args.images]
    data = rescaled(split.images.numpy()[order], split.labels.numpy()[order], len(order))
    classifier = trained.classifier.float().eval()
    formats = [name for name in ("onnx", "openvino", "torchscript") if _installed(name)]
    console.print(
        f"{trained.meta.model} from {args.run}, {len(data)} test images rescaled to {SIZES}; "
        f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread"
    )
    options = [
        ("A: round in the graph, half to even", OptionWrapper(classifier, half_to_even), half_to_even),
        ("A: round in the graph, halves nudged up (ships)", InferenceWrapper(classifier), to_levels),
        ("B: pipeline stops rounding", OptionWrapper(classifier, no_rounding), no_rounding),
        ("before: pipeline rounds, graph does not", OptionWrapper(classifier, no_rounding), half_to_even),
    ]
    table = Table(title="network input and probabilities vs the training data path, off-size images")
    for column in ("option", "runtime", "pixel values ≠", "max |Δpixel|", "max |Δprob|", "top-1 agree"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as scratch:
        for title, wrapper, pipeline in options:
            for row in measure(wrapper, classifier, pipeline, data, Path(scratch), formats):
                table.add_row(title, *row)
                title = ""
    console.print(table)
    size = trained.meta.image_size
    per_image = 3 * size * size
    cache = Table(title="decode cache per option (bytes per image; the CIFAR-10 train split, 50,000 images)")
    for column in ("option", "stored as", f"bytes at {size}x{size}", "50,000 images", "at 224x224"):
        cache.add_column(column)
    for option, dtype, factor in (
        ("A", "uint8", 1),
        ("B", "float32", 4),
        ("B, halved", "float16 (inexact)", 2),
    ):
        cache.add_row(
            option,
            dtype,
            f"{per_image * factor:,}",
            f"{per_image * factor * 50_000 / 2**20:,.0f} MiB",
            f"{3 * 224 * 224 * factor:,}",
        )
    console.print(cache)


if __name__ == "__main__":
    main()
