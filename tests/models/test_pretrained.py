"""Pretrained weights with the network blocked: real files placed where each library looks.

- torchvision: a state_dict under the exact file name its weights API expects, in torch.hub's cache
  ($TORCH_HOME/hub/checkpoints). torchvision checks the hash in the name only when it downloads, so the file
  is read as it is; its loader is not patched.
- timm: a Hugging Face cache snapshot (refs/main naming a snapshot folder with config.json and
  model.safetensors, as `hf download` leaves it), written by timm's own ``save_for_hf`` from a real small
  timm model.

The weights are a seeded fresh initialisation (the published files cannot be downloaded here); each test
checks that exactly those tensors, and not a fresh init, end up in the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants

from lightship.models import create_model
from lightship.models.pretrained import WeightsUnavailable, fetch, head_keys, load_into, resolve, weights_spec

TV_MODEL = "mobilenet_v3_small"
TV_FILE = "mobilenet_v3_small-047dcff4.pth"
TIMM_MODEL = "timm/test_convnext"
TIMM_REPO = "timm/test_convnext.r160_in1k"


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path / "hf"


def _same_body(net: torch.nn.Module, state: dict[str, torch.Tensor], head: list[str]) -> bool:
    own = net.state_dict()
    return all(torch.equal(own[key], value) for key, value in state.items() if key not in head)


@pytest.mark.usefixtures("no_network")
def test_torchvision_weights_in_the_hub_cache_load_offline_with_a_new_head(
    torch_home: Path, weights_cache
) -> None:
    state = weights_cache.torchvision(torch_home, TV_MODEL, TV_FILE)
    spec = weights_spec(TV_MODEL)
    assert spec.file_name == TV_FILE and spec.cache_folder == str(torch_home / "hub" / "checkpoints")
    assert spec.input_size == 224 and spec.mean == (0.485, 0.456, 0.406)
    found = fetch(TV_MODEL, num_classes=1000)
    assert not found.downloaded and found.spec.name == "MobileNet_V3_Small_Weights.IMAGENET1K_V1"
    net = create_model(TV_MODEL, 3)
    head = head_keys(TV_MODEL, 3, {})
    assert head == ["classifier.3.bias", "classifier.3.weight"]
    fresh_head = net.state_dict()["classifier.3.weight"].clone()
    info = load_into(net, found, head)
    assert _same_body(net, state, head) and info["loaded_tensors"] == len(state) - 2
    assert torch.equal(net.state_dict()["classifier.3.weight"], fresh_head)  # the head is new, 3 classes


@pytest.mark.usefixtures("no_network")
def test_a_timm_snapshot_in_the_hugging_face_cache_loads_offline(hub_cache: Path, weights_cache) -> None:
    state = weights_cache.timm(hub_cache, TIMM_REPO)
    spec = weights_spec(TIMM_MODEL)
    assert spec.name == TIMM_REPO and spec.file_name == "model.safetensors" and spec.licence == "apache-2.0"
    assert spec.input_size == 160
    found = fetch(TIMM_MODEL, num_classes=1000)
    net = create_model(TIMM_MODEL, 5)
    head = head_keys(TIMM_MODEL, 5, {})
    assert head == ["head.fc.bias", "head.fc.weight"]
    load_into(net, found, head)
    assert _same_body(net, state, head) and net.state_dict()["head.fc.weight"].shape == (5, 64)


@pytest.mark.usefixtures("no_network")
def test_missing_weights_offline_name_the_file_and_folder_or_fall_back_loudly(
    torch_home: Path, hub_cache: Path
) -> None:
    with pytest.raises(WeightsUnavailable) as tv:
        resolve(TV_MODEL, "true", 1000, warn=pytest.fail)
    message = str(tv.value)
    assert (
        f"put {TV_FILE} (from https://download.pytorch.org/models/{TV_FILE}) into {torch_home}/hub/checkpoints/"
        in message
    )
    assert "could not be reached" in message and "--model.pretrained auto" in message
    with pytest.raises(WeightsUnavailable) as hub:
        resolve(TIMM_MODEL, "true", 1000, warn=pytest.fail)
    folder = hub_cache / f"models--{TIMM_REPO.replace('/', '--')}"
    assert f"{folder}/snapshots/REVISION/model.safetensors" in str(hub.value)
    warnings: list[str] = []
    weights, note = resolve(TV_MODEL, "auto", 1000, warn=warnings.append)
    assert weights is None and "from scratch" in note and TV_FILE in warnings[0]
    assert resolve("airbench", "auto", 10, warn=pytest.fail)[0] is None  # no weights published: no warning


def test_offline_variables_are_honoured_before_any_network_attempt(
    torch_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("urllib.request.urlopen", pytest.fail)  # reaching for the network fails the test
    with pytest.raises(WeightsUnavailable, match="HF_HUB_OFFLINE is set"):
        fetch(TV_MODEL, 1000)


def test_the_head_of_every_kind_of_model_is_found() -> None:
    assert head_keys("resnet18", 4, {}) == ["fc.bias", "fc.weight"]
    assert head_keys("airbench", 4, {"widths": [8, 8, 8]}) == ["head.weight"]
    # regnet computes its widths with tensors, which the meta device cannot: built on the CPU instead
    assert head_keys("regnet_y_400mf", 4, {}) == ["fc.bias", "fc.weight"]


def test_manifest_ready_description_is_plain_json() -> None:
    spec = weights_spec("resnet18")
    described = json.loads(json.dumps(spec.describe()))
    assert described["name"] == "ResNet18_Weights.IMAGENET1K_V1" and described["source"] == "torchvision"
    assert "pre-trained-model-license" in described["licence"]
