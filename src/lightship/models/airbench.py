"""The fast CIFAR net of airbench94 (Keller Jordan, 2024): a frozen patch-whitening first conv,
three conv blocks with BatchNorm and GELU, max-pooling, and a scaled linear head.

Rewritten here (not imported) because lightship needs it as a plain ``nn.Module`` that Lightning can
train and every exporter can trace.
"""

from __future__ import annotations

import torch
from torch import nn

from lightship.models.registry import register_model


class _BatchNorm(nn.BatchNorm2d):
    """BatchNorm with a frozen unit scale and a learned bias, as in airbench."""

    def __init__(self, num_features: int, momentum: float, eps: float) -> None:
        super().__init__(num_features, eps=eps, momentum=1 - momentum)
        self.weight.requires_grad = False


class _Conv(nn.Conv2d):
    """3x3 'same' conv initialised partly as identity (dirac), which speeds up early training."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__(channels_in, channels_out, kernel_size=3, padding="same", bias=False)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        w = self.weight.data
        torch.nn.init.dirac_(w[: w.size(1)])


class _ConvGroup(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, bn_momentum: float, bn_eps: float) -> None:
        super().__init__()
        self.conv1 = _Conv(channels_in, channels_out)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = _BatchNorm(channels_out, bn_momentum, bn_eps)
        self.conv2 = _Conv(channels_out, channels_out)
        self.norm2 = _BatchNorm(channels_out, bn_momentum, bn_eps)
        self.activ = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.activ(self.norm1(self.pool(self.conv1(x))))
        return self.activ(self.norm2(self.conv2(x)))


class AirbenchNet(nn.Module):
    """airbench94's network. Call :meth:`init_from_data` once before training (whitening weights).

    ``bn_eps`` is airbench's 1e-12 by default; images with flat regions (digits' black background) give
    channels of near-zero variance, where eval-mode BatchNorm then amplifies tiny running-mean errors:
    use 1e-5 there.
    """

    def __init__(
        self,
        num_classes: int = 10,
        widths: tuple[int, int, int] = (64, 256, 256),
        bn_momentum: float = 0.6,
        bn_eps: float = 1e-12,
        scaling_factor: float = 1 / 9,
        whiten_bias_epochs: int = 3,
    ) -> None:
        super().__init__()
        kernel = 2
        whiten_width = 2 * 3 * kernel**2
        self.whiten = nn.Conv2d(3, whiten_width, kernel_size=kernel, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        self.layers = nn.Sequential(
            nn.GELU(),
            _ConvGroup(whiten_width, widths[0], bn_momentum, bn_eps),
            _ConvGroup(widths[0], widths[1], bn_momentum, bn_eps),
            _ConvGroup(widths[1], widths[2], bn_momentum, bn_eps),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        self.scaling_factor = scaling_factor
        self.whiten_bias_epochs = whiten_bias_epochs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(self.whiten(x))) * self.scaling_factor

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """Set the whitening conv to the eigenvectors of the 2x2 patch covariance of ``images``."""
        c, (h, w) = images.shape[1], self.whiten.weight.shape[2:]
        patches = images.float().unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c * h * w)
        covariance = patches.T @ patches / len(patches)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance, UPLO="U")
        eigenvalues = eigenvalues.flip(0).view(-1, 1, 1, 1)
        eigenvectors = eigenvectors.T.reshape(c * h * w, c, h, w).flip(0)
        scaled = eigenvectors / torch.sqrt(eigenvalues + eps)
        self.whiten.weight.copy_(torch.cat((scaled, -scaled)))

    def set_epoch(self, epoch: int) -> None:
        """The whitening bias trains for the first few epochs only, then freezes (airbench94)."""
        self.whiten.bias.requires_grad = epoch < self.whiten_bias_epochs


@register_model("airbench", 32, "airbench94-style fast CIFAR net (whitening conv, BN, GELU, 3 blocks)")
def airbench(num_classes: int, **kwargs: object) -> nn.Module:
    return AirbenchNet(num_classes=num_classes, **kwargs)
