"""Test-time augmentation as in airbench94: average logits over mirrored and translated views."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _mirror(net: nn.Module, x: torch.Tensor, plain: torch.Tensor | None = None) -> torch.Tensor:
    return 0.5 * (net(x) if plain is None else plain) + 0.5 * net(x.flip(-1))


def tta_logits(
    net: nn.Module, x: torch.Tensor, level: int, plain: torch.Tensor | None = None
) -> torch.Tensor:
    """Logits of ``net`` on normalised NCHW ``x``: level 0 plain, 1 + mirror, 2 + 1-pixel translations.

    ``plain``, when given, is ``net(x)`` already computed (saves one of the views' passes)."""
    if level == 0:
        return net(x) if plain is None else plain
    logits = _mirror(net, x, plain)
    if level >= 2:
        h, w = x.shape[-2:]
        padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
        shifted = [_mirror(net, padded[:, :, dy : dy + h, dx : dx + w]) for dy, dx in ((0, 0), (2, 2))]
        logits = 0.5 * logits + 0.5 * torch.stack(shifted).mean(0)
    return logits
