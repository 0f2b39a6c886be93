"""Logits of a trained classifier over a split, batched, with the same TTA as ``lightship train``."""

from __future__ import annotations

import torch

from lightship.console import track
from lightship.models import Classifier
from lightship.training.tta import tta_logits


def pick_device() -> torch.device:
    """The first GPU when there is one: evaluation is a pure forward pass and gains the most from it."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@torch.inference_mode()
def predict_logits(
    model: Classifier,
    images: torch.Tensor,
    tta: int = 0,
    batch_size: int = 256,
    device: torch.device | None = None,
) -> torch.Tensor:
    """float32 logits ``N x C`` (on CPU) of uint8 NHWC ``images`` (at least one image).

    TTA works on the normalised tensor (``model.preprocess`` then ``tta_logits(model.net, ...)``), so the
    mirrored and shifted views see exactly the pixels the plain model sees.
    """
    if tta not in (0, 1, 2):
        raise ValueError(f"tta must be 0, 1 or 2, not {tta}")
    device = device or pick_device()
    model = model.to(device).eval()
    chunks = []
    starts = range(0, len(images), batch_size)
    for start in track(starts, "evaluate", lambda s: f"images {s + 1}-{min(s + batch_size, len(images))}"):
        batch = images[start : start + batch_size].to(device)
        chunks.append(tta_logits(model.net, model.preprocess(batch), tta).float().cpu())
    return torch.cat(chunks)
