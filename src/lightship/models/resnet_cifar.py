"""ResNet-18 with a CIFAR stem: a 3x3 stride-1 first conv and no max-pool, so 32x32 inputs keep detail."""

from __future__ import annotations

import torchvision
from torch import nn

from lightship.models.registry import register_model


@register_model("resnet18_cifar", 32, "torchvision ResNet-18 with a 3x3 stride-1 stem for small images")
def resnet18_cifar(num_classes: int, **kwargs: object) -> nn.Module:
    model = torchvision.models.resnet18(weights=None, num_classes=num_classes, **kwargs)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model
