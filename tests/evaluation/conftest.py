"""A tiny model whose predictions are known in advance, and a run folder + image folder built around it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torch import nn

from lightship.models import ModelMeta, list_models, register_model

MODEL = "test_channel_mean"
CLASSES = ["blue", "green", "red"]  # sorted, as ImageFolder orders class folders
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}


class ChannelMean(nn.Module):
    """Logits = linear map of the mean of each channel: a solid colour image gets a known prediction."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.head = nn.Linear(3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x.mean(dim=(2, 3)))


if MODEL not in list_models():
    register_model(MODEL, 16, "tests only: channel means -> linear")(
        lambda num_classes: ChannelMean(num_classes)
    )


def colour_model_meta() -> ModelMeta:
    return ModelMeta(MODEL, 3, list(CLASSES), 16, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])


def save_colour_checkpoint(path: Path) -> None:
    """Weights that predict blue/green/red from the B/G/R channel mean (pixels normalised to 0..1)."""
    model = colour_model_meta().build()
    with torch.no_grad():
        model.net.head.weight.copy_(10 * torch.tensor([[0.0, 0, 1], [0, 1, 0], [1, 0, 0]]))
        model.net.head.bias.zero_()
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "hyper_parameters": {"lightship": colour_model_meta().to_dict()}}, path)


def write_image(
    path: Path, colour: tuple[int, int, int], size: int = 20, noise_seed: int | None = None
) -> None:
    pixels = np.full((size, size, 3), colour, dtype=np.uint8)
    if noise_seed is not None:  # different bytes, same prediction
        rng = np.random.default_rng(noise_seed)
        pixels = np.clip(pixels.astype(int) + rng.integers(-20, 20, pixels.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def colour_run(tmp_path: Path) -> Path:
    """A run folder whose test split has 9 images: 8 right, and one red image filed under green."""
    data = tmp_path / "data"
    for seed, (split, name, i) in enumerate(itertools.product(("train", "test"), CLASSES, range(3))):
        write_image(data / split / name / f"{i}.png", COLOURS[name], noise_seed=seed)
    (data / "test" / "green" / "2.png").unlink()
    write_image(data / "test" / "green" / "mislabeled.png", COLOURS["red"], noise_seed=100)
    run = tmp_path / "run"
    save_colour_checkpoint(run / "checkpoints" / "best.ckpt")
    config = {
        "data": {
            "source": "imagefolder",
            "root": str(data),
            "image_size": 16,
            "num_workers": 0,
            "cache_dir": str(tmp_path / "cache"),
            "augment": {"translate": 0},
        },
        "seed": 0,
    }
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    return run
