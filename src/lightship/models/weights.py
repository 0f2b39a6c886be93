"""Starting weights from anything lightship wrote (``--model.weights``), or a plain state_dict.

Accepted: a run folder (its ``checkpoints/best.ckpt``, else ``last.ckpt``), a Lightning checkpoint of
``lightship train``, a bundle folder or its ``reference.pt``, and a ``state_dict`` file (``.pt``/``.pth``,
also one saved from a DDP-wrapped or compiled net). Each is recognised by its content, and tensor names are
matched after stripping the wrapper prefix that fits most of them (``model.net.`` in a checkpoint, ``net.``
in a bundle's reference). Tensors whose name or shape does not fit (a head for another number of classes)
stay at their fresh initialisation, and the report says which layers loaded and which stayed fresh.

Everything is read with ``torch.load(weights_only=True)``; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lightship.errors import LightshipError, load_failure

#: Where lightship keeps weights inside a folder it wrote, in order of preference: a run folder's best and
#: last checkpoints (the run-folder contract, lightship.training.runfolder) and a bundle's reference model
#: (lightship.bundle.reference). A test checks these agree with the owners of those layouts.
FOLDER_WEIGHTS = ("checkpoints/best.ckpt", "checkpoints/last.ckpt", "reference.pt")
#: Wrapper prefixes tried on tensor names: Lightning module + Classifier, Classifier, DDP, torch.compile.
PREFIXES = ("", "model.net.", "net.", "module.", "model.", "_orig_mod.")


class WeightsError(LightshipError):
    """A weights file that is missing, unreadable or does not fit the model at all."""


@dataclass
class WeightsReport:
    """What :func:`load_weights` did: the file read, and the tensors loaded and left fresh."""

    file: Path
    loaded: list[str]
    fresh: list[str]
    meta: dict[str, Any] | None = None
    """The lightship model description stored with the weights (checkpoint or bundle), when there is one:
    its mean/std are the source run's normalisation."""
    unused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph: the layers that loaded and the ones that stayed fresh, by module name."""
        loaded, fresh = _layers(self.loaded), _layers(self.fresh)
        text = f"weights from {self.file}: {len(self.loaded)} tensors loaded ({_listing(loaded)})"
        if fresh:
            text += f"; {len(self.fresh)} stay freshly initialised ({_listing(fresh)})"
        return text


def _layers(names: list[str]) -> list[str]:
    """Tensor names -> their modules, in order, once each (``head.weight``, ``head.bias`` -> ``head``)."""
    return list(dict.fromkeys(name.rpartition(".")[0] or name for name in names))


def _listing(layers: list[str], shown: int = 8) -> str:
    more = f", ... {len(layers) - shown} more" if len(layers) > shown else ""
    return ", ".join(layers[:shown]) + more


def weights_file(path: str | Path) -> Path:
    """The file to read for ``path``: the file itself, or the weights inside a run or bundle folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        for name in FOLDER_WEIGHTS:
            if (path / name).is_file():
                return path / name
        raise WeightsError(
            f"{path} is a folder without weights lightship knows ({', '.join(FOLDER_WEIGHTS)}); pass a run "
            "folder, a bundle folder, a .ckpt or a .pt state_dict"
        )
    if not path.is_file():
        raise WeightsError(
            f"weights {path} do not exist; pass a run folder, a bundle folder, a .ckpt or a .pt state_dict"
        )
    return path


def read_weights(path: str | Path) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any] | None]:
    """(file, tensors by name, lightship model description or None) of any accepted ``path``."""
    file = weights_file(path)
    try:
        content = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling garbage raises many types
        raise WeightsError(f"{file} is not a readable weights file ({load_failure(exc)})") from exc
    meta = None
    if isinstance(content, Mapping) and isinstance(content.get("state_dict"), Mapping):
        hyper = content.get("hyper_parameters")
        meta = content.get("meta") or (hyper.get("lightship") if isinstance(hyper, Mapping) else None)
        content = content["state_dict"]  # a Lightning checkpoint, or a bundle's reference.pt
    if not isinstance(content, Mapping) or not any(isinstance(v, torch.Tensor) for v in content.values()):
        raise WeightsError(f"{file} holds no tensors; pass a run folder, a bundle, a .ckpt or a state_dict")
    tensors = {str(k): v for k, v in content.items() if isinstance(v, torch.Tensor)}
    return file, tensors, dict(meta) if isinstance(meta, Mapping) else None


def load_weights(net: nn.Module, path: str | Path) -> WeightsReport:
    """Load every tensor of ``path`` that fits ``net`` (by name and shape); the rest of ``net`` stays fresh."""
    file, tensors, meta = read_weights(path)
    own = net.state_dict()
    best: dict[str, torch.Tensor] = {}
    for prefix in PREFIXES:
        named = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        fitting = {k: v for k, v in named.items() if k in own and own[k].shape == v.shape}
        if len(fitting) > len(best):
            best = fitting
    if not best:
        raise WeightsError(
            f"{file}: none of its {len(tensors)} tensors fit this model (e.g. {next(iter(tensors))}); are they "
            "weights of the same architecture (--model.name, --model.kwargs)?"
        )
    net.load_state_dict(best, strict=False)
    fresh = [k for k in own if k not in best]
    unused = sorted(set(tensors) - {p + k for p in PREFIXES for k in best})
    return WeightsReport(file, list(best), fresh, meta, unused)
