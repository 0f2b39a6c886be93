"""The typed training configuration: one place for every hyper-parameter.

On the command line these are ``--model.*``, ``--optim.*``, ``--data.*`` and ``--trainer.*`` (any
``lightning.Trainer`` argument), following LightningCLI/jsonargparse conventions; in YAML the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lightship.data.config import DataConfig


@dataclass
class ModelConfig:
    """Which network to train (a name from the registry, see ``lightship models``)."""

    name: str = "airbench"
    weights: Path | None = None
    """A local state_dict to start from (fine-tuning); tensors that don't fit, like a head, stay fresh."""
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
    nesterov: bool = True
    weight_decay: float = 5e-4
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
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    warmup_fraction: float = 0.0
    """Share of all steps spent warming up linearly from start_factor x lr to lr."""
    start_factor: float = 0.2
    final_factor: float = 0.0
    """The schedule ends at final_factor x lr."""
    lookahead: bool = False
    """airbench's lookahead: every lookahead_every steps, pull the weights towards an EMA of themselves
    with a decay that grows over training; the run ends on the EMA weights."""
    lookahead_every: int = 5


@dataclass
class TrainConfig:
    """A whole training run. ``trainer`` holds ``lightning.Trainer`` keyword arguments."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    tta: Literal[0, 1, 2] = 0
    """Test-time augmentation for the test accuracy: 0 none, 1 mirror, 2 mirror + translate."""
    out: Path | None = None
    """Run folder; default runs/<model>-<timestamp>."""
