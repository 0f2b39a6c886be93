"""Published pretrained weights, through each library's own mechanism and cache.

- torchvision models (``resnet18``, ...): the weights API (``get_model_weights(name).DEFAULT``), whose
  ``get_state_dict`` reads ``$TORCH_HOME/hub/checkpoints/<file>`` (torch.hub's cache) or downloads there.
- timm models (``timm/convnext_nano``): the model's pretrained config names a Hugging Face Hub repository;
  ``huggingface_hub`` reads its cache (``$HF_HUB_CACHE``) or downloads into it, and timm loads the file
  (its own filters and adaptations included).

Offline is known without hanging: the cache is looked at first; with ``LIGHTSHIP_OFFLINE``,
``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` set nothing is tried; otherwise one request with a short
timeout decides whether a download is attempted, and the download itself runs with a socket timeout.

The head (the layers whose shape depends on the number of classes) is never taken from the weights: it
is created fresh for the folder's classes. What was loaded (name, source, licence, input size, mean/std)
is described by :class:`WeightsSpec` and travels in the checkpoint's ``ModelMeta``, the run's summary and
the bundle manifest.
"""

from __future__ import annotations

import contextlib
import os
import socket
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn

from lightship.errors import LightshipError
from lightship.models.registry import TIMM_PREFIX, create_model, is_timm, torchvision_model_names

#: Seconds one probe of the network may take before the weights count as not downloadable.
NETWORK_TIMEOUT = float(os.environ.get("LIGHTSHIP_NETWORK_TIMEOUT", "5"))
#: Seconds a download may stall (no bytes arriving) before it is abandoned.
DOWNLOAD_STALL_TIMEOUT = 60.0
OFFLINE_VARIABLES = ("LIGHTSHIP_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
#: timm's weight files on the Hub, in the order timm itself prefers them.
HF_FILES = ("model.safetensors", "pytorch_model.bin")
TORCHVISION_LICENCE = (
    "torchvision pretrained weights: terms derived from the training data (ImageNet-1k); see "
    "https://github.com/pytorch/vision#pre-trained-model-license"
)
#: torchvision models whose weights expect its input transform (torchvision's builders switch it on).
TORCHVISION_WEIGHT_KWARGS: dict[str, dict[str, Any]] = {
    "inception_v3": {"transform_input": True},
    "googlenet": {"transform_input": True},
}


class WeightsUnavailable(LightshipError):
    """Pretrained weights were asked for (``--model.pretrained true``) and cannot be had."""


@dataclass(frozen=True)
class WeightsSpec:
    """Which published weights a model name has, where the library caches them, and what they expect."""

    model: str
    source: str
    """"torchvision" or "timm (Hugging Face Hub)"."""
    name: str
    """torchvision's enum (``ResNet18_Weights.IMAGENET1K_V1``) or the Hub repository (``timm/convnext_nano.in12k_ft_in1k``)."""
    location: str
    """The download URL (torchvision) or the Hub repository id (timm)."""
    file_name: str
    cache_folder: str
    """The folder the library reads the file from (for timm: the repository's folder in the Hub cache)."""
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    licence: str
    model_kwargs: dict[str, Any]
    """Factory keyword arguments the weights need (e.g. inception's ``transform_input``)."""

    def describe(self) -> dict[str, Any]:
        """Plain types for ModelMeta, summary.json and the manifest (without this machine's cache folder)."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if k != "cache_folder"
        }

    def where_to_put(self) -> str:
        """Exactly which file goes into which folder so the library finds it offline."""
        if self.source == "torchvision":
            return f"put {self.file_name} (from {self.location}) into {self.cache_folder}/"
        return (
            f"put {self.file_name} of the Hugging Face repository {self.location} into the Hub cache: the file "
            f"goes to {self.cache_folder}/snapshots/REVISION/{self.file_name} and {self.cache_folder}/refs/main "
            f"holds REVISION. `hf download {self.location} {self.file_name}` on a machine with network writes "
            f"exactly that; copy its {Path(self.cache_folder).name} folder into {Path(self.cache_folder).parent}/ here"
        )


@dataclass
class Pretrained:
    """Weights found: their description and their tensors (head included; see :func:`load_into`)."""

    spec: WeightsSpec
    state_dict: dict[str, torch.Tensor]
    downloaded: bool


def weights_spec(model: str) -> WeightsSpec | None:
    """The default published weights of ``model``, or None when it has none (lightship's own nets)."""
    if is_timm(model):
        return _timm_spec(model)
    if model in torchvision_model_names():
        return _torchvision_spec(model)
    return None


def _torchvision_spec(model: str) -> WeightsSpec | None:
    try:
        weights = torchvision.models.get_model_weights(model).DEFAULT
    except (ValueError, KeyError, AttributeError):
        return None
    transform = weights.transforms()
    file_name = os.path.basename(urlparse(weights.url).path)
    return WeightsSpec(
        model=model,
        source="torchvision",
        name=str(weights),
        location=weights.url,
        file_name=file_name,
        cache_folder=str(Path(torch.hub.get_dir()) / "checkpoints"),
        input_size=int(transform.crop_size[0]),
        mean=tuple(float(v) for v in transform.mean),
        std=tuple(float(v) for v in transform.std),
        licence=str(weights.meta.get("license") or TORCHVISION_LICENCE),
        model_kwargs=dict(TORCHVISION_WEIGHT_KWARGS.get(model, {})),
    )


def _timm_spec(model: str) -> WeightsSpec | None:
    import timm
    from huggingface_hub import constants

    cfg = timm.models.get_pretrained_cfg(model[len(TIMM_PREFIX) :])
    if cfg is None or not cfg.hf_hub_id:
        return None
    repo = cfg.hf_hub_id
    cached = _hf_cached_file(repo)
    file_name = cfg.hf_hub_filename or (cached.name if cached else HF_FILES[0])
    return WeightsSpec(
        model=model,
        source="timm (Hugging Face Hub)",
        name=repo,
        location=repo,
        file_name=file_name,
        cache_folder=str(Path(constants.HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}"),
        input_size=int(cfg.input_size[-1]),
        mean=tuple(float(v) for v in cfg.mean),
        std=tuple(float(v) for v in cfg.std),
        licence=str(cfg.license or "see the model card of " + repo),
        model_kwargs={},
    )


def _hf_cached_file(repo: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    for name in HF_FILES:
        found = try_to_load_from_cache(repo, name)
        if isinstance(found, str):
            return Path(found)
    return None


def cached_file(spec: WeightsSpec) -> Path | None:
    """The weights file in the library's cache, if it is there (no network)."""
    if spec.source == "torchvision":
        path = Path(spec.cache_folder) / spec.file_name
        return path if path.is_file() else None
    return _hf_cached_file(spec.location)


def offline_reason(spec: WeightsSpec) -> str | None:
    """Why a download cannot happen now, or None when the weights' server answered within the timeout."""
    for variable in OFFLINE_VARIABLES:
        if os.environ.get(variable, "").strip().lower() in {"1", "true", "yes", "on"}:
            return f"{variable} is set"
    if spec.source == "torchvision":
        url = spec.location
    else:
        from huggingface_hub import constants

        url = f"{constants.ENDPOINT}/{spec.location}/resolve/main/{spec.file_name}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=NETWORK_TIMEOUT):
            return None
    except Exception as exc:  # URLError, timeouts, refused sockets: all mean "no download now"
        return f"{urlparse(url).netloc} could not be reached within {NETWORK_TIMEOUT:g} s ({type(exc).__name__}: {exc})"


@contextlib.contextmanager
def _stall_timeout(seconds: float) -> Iterator[None]:
    """A download that stops receiving bytes fails after ``seconds`` instead of hanging (torch.hub's urlopen
    sets no timeout of its own, so the process-wide default applies)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _read(spec: WeightsSpec, num_classes: int) -> dict[str, torch.Tensor]:
    """The weights' tensors through the library (from its cache, or downloading into it)."""
    if spec.source == "torchvision":
        weights = torchvision.models.get_model_weights(spec.model).DEFAULT
        return weights.get_state_dict(progress=True, check_hash=True)
    import timm
    from huggingface_hub import hf_hub_download

    path = cached_file(spec) or Path(
        hf_hub_download(spec.location, spec.file_name, etag_timeout=NETWORK_TIMEOUT)
    )
    # timm's own loader (its checkpoint filters and input/class adaptations), pointed at the file.
    name = spec.model[len(TIMM_PREFIX) :]
    model = timm.create_model(
        name, pretrained=True, num_classes=num_classes, pretrained_cfg_overlay={"file": str(path)}
    )
    return model.state_dict()


def fetch(model: str, num_classes: int) -> Pretrained:
    """The published weights of ``model``: from the cache, else downloaded; WeightsUnavailable otherwise,
    naming the file and the folder to put it in."""
    spec = weights_spec(model)
    if spec is None:
        raise WeightsUnavailable(
            f"model {model!r} has no published pretrained weights; torchvision models (`lightship models`) and "
            "timm models (timm/NAME) have them. Use --model.pretrained false to train it from scratch."
        )
    downloaded = cached_file(spec) is None
    if downloaded:
        reason = offline_reason(spec)
        if reason is not None:
            raise WeightsUnavailable(
                f"the pretrained weights of {model} ({spec.source} {spec.name}) are not in the cache and cannot be "
                f"downloaded now: {reason}. To train offline, {spec.where_to_put()}."
            )
    try:
        with _stall_timeout(DOWNLOAD_STALL_TIMEOUT):
            state = _read(spec, num_classes)
    except WeightsUnavailable:
        raise
    except Exception as exc:
        raise WeightsUnavailable(
            f"the pretrained weights of {model} ({spec.source} {spec.name}) could not be read "
            f"({type(exc).__name__}: {str(exc)[:300]}). To train offline, {spec.where_to_put()}."
        ) from exc
    return Pretrained(spec, state, downloaded)


def head_keys(model: str, num_classes: int, kwargs: dict[str, Any]) -> list[str]:
    """Names of the tensors whose shape follows the number of classes: the classification head(s).

    Found by building the model for two class counts (on the meta device: no memory, no init cost; on the
    CPU for the few models whose constructor computes with tensors) and comparing shapes, so it holds for
    every architecture without knowing where its head lives.
    """

    def shapes(classes: int, device: str) -> dict[str, torch.Size]:
        with torch.device(device):
            net = create_model(model, classes, **kwargs)
        return {key: value.shape for key, value in net.state_dict().items()}

    for device in ("meta", "cpu"):
        try:
            one, other = shapes(num_classes, device), shapes(num_classes + 1, device)
            break
        except (NotImplementedError, RuntimeError):
            if device == "cpu":
                raise
    return sorted(key for key, shape in one.items() if other.get(key) != shape)


def load_into(net: nn.Module, pretrained: Pretrained, head: list[str]) -> dict[str, Any]:
    """Copy every tensor of ``pretrained`` except the head into ``net``; the head keeps its fresh init.

    Every non-head tensor of ``net`` must come from the weights with the same shape: weights for another
    architecture are an error, not a silent partial load. Returns what was loaded, for the run's records.
    """
    own = net.state_dict()
    body = {key: value for key, value in pretrained.state_dict.items() if key in own and key not in head}
    missing = sorted(key for key in own if key not in head and key not in body)
    wrong = sorted(key for key, value in body.items() if value.shape != own[key].shape)
    if missing or wrong:
        raise WeightsUnavailable(
            f"the weights {pretrained.spec.name} do not fit {pretrained.spec.model}: "
            f"{len(missing)} tensor(s) missing (e.g. {missing[:3]}), {len(wrong)} of another shape (e.g. {wrong[:3]})"
        )
    net.load_state_dict(body, strict=False)
    return {**pretrained.spec.describe(), "loaded_tensors": len(body), "fresh_head": head}


def resolve(
    model: str, mode: str, num_classes: int, warn: Callable[[str], None]
) -> tuple[Pretrained | None, str]:
    """Apply ``--model.pretrained`` (``true``/``false``/``auto``): the weights to start from, or None, and a
    sentence for the run's records. ``true`` raises WeightsUnavailable; ``auto`` calls ``warn`` and goes on."""
    if mode == "false":
        return None, "trained from scratch (--model.pretrained false)"
    try:
        found = fetch(model, num_classes)
    except WeightsUnavailable as exc:
        if mode == "true":
            raise WeightsUnavailable(
                f"{exc} Or use --model.pretrained auto (trains from scratch when the weights cannot be had) or false."
            ) from exc
        if weights_spec(model) is None:
            return None, f"trained from scratch: {model} has no published pretrained weights"
        warn(f"{exc} Training from scratch instead (--model.pretrained auto).")
        return None, f"trained from scratch: pretrained weights unavailable ({exc})"
    how = "downloaded into" if found.downloaded else "read from"
    return (
        found,
        f"started from {found.spec.source} weights {found.spec.name} ({how} {found.spec.cache_folder})",
    )
