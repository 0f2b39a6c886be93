"""The typed training configuration: one place for every hyper-parameter.

On the command line these are ``--model.*``, ``--optim.*``, ``--data.*`` and ``--trainer.*`` (any
``lightning.Trainer`` argument), following LightningCLI/jsonargparse conventions; in YAML the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lightship.data.config import DataConfig
from lightship.errors import LightshipError


@dataclass
class ModelConfig:
    """Which network to train (a name from the registry, see ``lightship models``)."""

    name: str = "airbench"
    """Registry name: lightship's own (airbench, resnet18_cifar, ...), any torchvision classification
    model (resnet50, mobilenet_v3_small, ...) or timm/NAME; `lightship models` lists them."""
    pretrained: bool | Literal["auto"] = False
    """Start from the model's published weights (torchvision's, or timm's for timm/NAME), read from the
    library's cache or downloaded into it. true: stop when they cannot be had, naming the file and folder;
    auto: warn and train from scratch then; false: from scratch. The head is always new, for your classes;
    mean/std come from the weights; an explicit --model.weights file wins over this."""
    weights: Path | None = None
    """Weights to start from (fine-tuning): a run folder, a .ckpt of lightship train, a bundle folder or its
    reference.pt, or a plain state_dict. Tensors that don't fit, like a head for other classes, stay fresh;
    the run prints which layers loaded. The data's mean/std default to the source run's."""
    freeze_backbone: int = 0
    """Fine-tuning (pretrained or --model.weights): for this many first epochs only the head learns and the
    backbone's BatchNorm statistics stay fixed; then everything trains."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments of the model's factory (e.g. widths for airbench)."""
    compile: bool = False
    """Wrap the network in torch.compile (faster steps after a compile warm-up)."""


@dataclass
class OptimConfig:
    """Optimiser, schedule and regularisation: the record recipes' knobs."""

    optimizer: Literal["sgd", "adamw", "muon"] = "sgd"
    """``muon``: Muon for conv filters (meant for nets with a norm layer after each conv, like airbench
    and ResNets), SGD-Nesterov for the rest; see :mod:`lightship.training.muon`."""
    lr: float = 0.1
    """Learning rate for a mean-reduced loss (with ``muon``: of the non-filter parameters)."""
    momentum: float = 0.9
    """SGD momentum (with ``muon``: of the non-filter parameters)."""
    nesterov: bool = True
    """Nesterov momentum for SGD."""
    weight_decay: float = 5e-4
    """L2 weight decay (decoupled for adamw)."""
    norm_lr_scale: float = 1.0
    """Learning-rate multiplier for normalisation-layer parameters (airbench's BN-bias scaling: 64). Their
    weight decay is divided by the same factor, so the decay per step is unchanged. With ``muon`` it applies
    to every 1-D parameter (biases too)."""
    muon_lr: float = 0.24
    """Muon's step for conv filters, which it keeps at a fixed norm (so no weight decay, and the loss's
    scale does not matter)."""
    muon_momentum: float = 0.6
    """Muon's momentum (Nesterov); the other groups use ``momentum``, always Nesterov with ``muon``."""
    label_smoothing: float = 0.0
    """Cross-entropy label smoothing (0 = off)."""
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    """Learning-rate decay after the warm-up, per step, down to final_factor x lr."""
    warmup_fraction: float = 0.0
    """Share of all steps spent warming up linearly from start_factor x lr to lr."""
    start_factor: float = 0.2
    """The warm-up starts at start_factor x lr."""
    final_factor: float = 0.0
    """The schedule ends at final_factor x lr."""
    lookahead: bool = False
    """airbench's lookahead: every lookahead_every steps, pull the weights towards an EMA of themselves
    with a decay that grows over training; the run ends on the EMA weights."""
    lookahead_every: int = 5
    """Steps between two lookahead pulls."""
    backbone_lr_scale: float = 1.0
    """Fine-tuning (pretrained or --model.weights): the backbone's learning rate is lr x this (e.g. 0.1),
    the new head's is lr. Ignored when training from scratch."""


@dataclass
class TrainConfig:
    """A whole training run. ``trainer`` holds ``lightning.Trainer`` keyword arguments."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    """Seed of everything (weights, data order, augmentation)."""
    tta: Literal[0, 1, 2] = 0
    """Test-time augmentation for the test accuracy: 0 none, 1 mirror, 2 mirror + translate."""
    out: Path | None = None
    """Run folder. Refused when it already holds something, unless overwrite. Default: runs/NAME, or
    runs/NAME2, runs/NAME3, ... when taken."""
    name: str | None = None
    """NAME of the numbered run folder when out is not given; default <source>-<model>. The folder is
    made in runs/, or in trainer.default_root_dir when that is set."""
    overwrite: bool = False
    """Empty the existing run folder at out first (it must be a lightship run folder)."""


def validate_optim(config: OptimConfig) -> None:
    """Reject optimiser settings that cannot work, naming each (before any data is read or folder made)."""
    problems = []
    for name in ("lr", "muon_lr"):
        if not getattr(config, name) > 0:
            problems.append(f"optim.{name} is {getattr(config, name)}; it must be above 0")
    for name in ("momentum", "muon_momentum", "warmup_fraction", "label_smoothing"):
        if not 0 <= getattr(config, name) < 1:
            problems.append(f"optim.{name} is {getattr(config, name)}; it must be in [0, 1)")
    for name in ("weight_decay", "start_factor", "final_factor"):
        if getattr(config, name) < 0:
            problems.append(f"optim.{name} is {getattr(config, name)}; it must be 0 or more")
    if not config.norm_lr_scale > 0:
        problems.append(f"optim.norm_lr_scale is {config.norm_lr_scale}; it must be above 0")
    if config.lookahead_every < 1:
        problems.append(f"optim.lookahead_every is {config.lookahead_every}; it must be at least 1")
    if problems:
        raise LightshipError("invalid optimiser configuration: " + "; ".join(problems) + ".")
