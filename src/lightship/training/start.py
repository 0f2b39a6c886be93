"""How a run starts: the weights it starts from, and what they decide about the data.

``--model.pretrained`` is resolved here, before the data is read, because the weights decide two data
settings: ``--data.image_size auto`` becomes their input size (64 without weights) and mean/std become
theirs unless given. Fine-tuning settings (frozen backbone epochs, a lower backbone learning rate) only
apply when training starts from weights; from scratch they are switched off and the run says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel

from lightship.models import ModelMeta
from lightship.models.pretrained import Pretrained, resolve
from lightship.training.config import TrainConfig

#: ``--data.image_size auto`` without pretrained weights: enough detail for photos at a CPU's pace.
AUTO_IMAGE_SIZE = 64


@dataclass
class Start:
    """The resolved config (image size a number, mean/std filled from the weights), the weights to load,
    and sentences for the run's records."""

    config: TrainConfig
    pretrained: Pretrained | None
    fine_tuning: bool
    how: str
    """One sentence: which weights training started from, or why from scratch (summary.json's "start")."""
    notes: list[str] = field(default_factory=list)

    @property
    def freeze_backbone(self) -> int:
        return self.config.model.freeze_backbone if self.fine_tuning else 0


def warn_loudly(message: str) -> None:
    """A warning that a user cannot miss in a training log (a framed panel on stderr)."""
    Console(stderr=True).print(Panel(message, title="[bold]warning[/]", border_style="bold yellow"))


def resolve_start(config: TrainConfig, resumed: ModelMeta | None = None) -> Start:
    """Decide how ``config`` starts. A resumed run (``resumed``: its checkpoint's ModelMeta) takes its
    weights from the checkpoint, so nothing is fetched and its recorded mean/std/image size stand."""
    notes: list[str] = []
    model = config.model
    pretrained = None
    if resumed is not None:
        # The run's config.yaml holds the resolved size and normalisation; an option given with --resume that
        # changes them is refused by the resume check, naming it. Only what the run left to be decided is
        # taken from its checkpoint.
        data = config.data
        if data.image_size == "auto":
            data = dataclasses.replace(data, image_size=resumed.image_size)
        if resumed.pretrained is not None and data.mean is None and data.std is None:
            data = dataclasses.replace(data, mean=tuple(resumed.mean), std=tuple(resumed.std))
        fine_tuning = resumed.pretrained is not None or model.weights is not None
        origin = f", which started from {resumed.pretrained['name']}" if resumed.pretrained else ""
        how = f"resumed from its last checkpoint{origin}"
        return Start(dataclasses.replace(config, data=data), None, fine_tuning, how, notes)
    if model.weights is not None:
        how = f"started from the local weights {model.weights} (--model.weights wins over --model.pretrained)"
    else:
        mode = {True: "true", False: "false"}.get(model.pretrained, str(model.pretrained))
        pretrained, how = resolve(model.name, mode, num_classes=1000, warn=warn_loudly)
    fine_tuning = pretrained is not None or model.weights is not None
    data = config.data
    if data.image_size == "auto":
        size = pretrained.spec.input_size if pretrained is not None else AUTO_IMAGE_SIZE
        why = "the pretrained weights' input size" if pretrained is not None else "no pretrained weights"
        notes.append(f"data.image_size auto: {size} ({why})")
        data = dataclasses.replace(data, image_size=size)
    if pretrained is not None:
        data = dataclasses.replace(
            data,
            mean=data.mean if data.mean is not None else pretrained.spec.mean,
            std=data.std if data.std is not None else pretrained.spec.std,
        )
    optim = config.optim
    if not fine_tuning and (model.freeze_backbone or optim.backbone_lr_scale != 1.0):
        notes.append(
            "model.freeze_backbone and optim.backbone_lr_scale are for fine-tuning and were not applied: this "
            "run trains from scratch"
        )
        optim = dataclasses.replace(optim, backbone_lr_scale=1.0)
    return Start(dataclasses.replace(config, data=data, optim=optim), pretrained, fine_tuning, how, notes)


def model_kwargs(start: Start, resumed: ModelMeta | None = None) -> dict[str, Any]:
    """The factory kwargs: those the weights need (e.g. inception's input transform), then the user's."""
    if start.pretrained is not None:
        needed = start.pretrained.spec.model_kwargs
    else:
        needed = dict((resumed.pretrained or {}).get("model_kwargs", {})) if resumed is not None else {}
    return {**needed, **start.config.model.kwargs}


def describe_weights(start: Start, resumed: ModelMeta | None) -> dict[str, Any] | None:
    """What ModelMeta records about the starting weights (plain types)."""
    if resumed is not None:
        return resumed.pretrained
    if start.pretrained is not None:
        return start.pretrained.spec.describe()
    if start.config.model.weights is not None:
        return {"source": "local file", "name": str(Path(start.config.model.weights))}
    return None
