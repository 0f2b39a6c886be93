"""The fine-tuning path and the centre-crop resize, end to end, in every runtime.

One run (network blocked) fine-tunes mobilenet_v3_small from torchvision weights placed in torch.hub's
cache (``--model.pretrained true``, ``--data.image_size auto`` -> 224, ``--data.resize crop``, one frozen
epoch, a 10x lower backbone rate), then exports every format of the table. Verification runs each artifact
in its own runtime against the eager model (on the test photos and on odd non-square shapes); here each
artifact is also shown that "crop" means crop: a picture with junk added left and right scores exactly as
its centre square (the same pixels reach the network).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lightship.data.config import AugmentConfig, DataConfig
from lightship.export.commands import export_command
from lightship.export.formats import FORMATS
from lightship.runtime.backends import open_backend
from lightship.training import ModelConfig, OptimConfig, TrainConfig, load_trained, train

TV_FILE = "mobilenet_v3_small-047dcff4.pth"


@pytest.fixture(scope="module")
def finetuned(
    tmp_path_factory: pytest.TempPathFactory,
    no_network_module: None,
    photo_folder: Callable[..., Path],
    weights_cache,
) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("finetune")
    pretrained_state = weights_cache.torchvision(tmp / "torch", "mobilenet_v3_small", TV_FILE)
    root = photo_folder(tmp / "photos", per_class=12)
    config = TrainConfig(
        data=DataConfig(
            source="imagefolder",
            root=root,
            image_size="auto",
            resize="crop",
            batch_size=8,
            cache_dir=tmp / "cache",
            augment=AugmentConfig(translate=0, flip="random"),
        ),
        model=ModelConfig(name="mobilenet_v3_small", pretrained=True, freeze_backbone=1),
        optim=OptimConfig(optimizer="adamw", lr=2e-3, weight_decay=0.0, backbone_lr_scale=0.1),
        trainer={"max_epochs": 3, "enable_progress_bar": False, "enable_model_summary": False},
        out=tmp / "run",
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TORCH_HOME", str(tmp / "torch"))
        result = train(config)
    bundle = tmp / "bundle"
    assert (
        export_command(result.run_dir, out=bundle, formats=",".join(FORMATS), n=200, calibration_size=32) == 0
    )
    return bundle, {"summary": result.summary, "pretrained": pretrained_state, "run": result.run_dir}


def test_the_run_started_from_the_cached_weights_at_their_size_and_normalisation(finetuned) -> None:
    bundle, info = finetuned
    summary = info["summary"]
    assert summary["image_size"] == 224 and summary["resize"] == "crop" and summary["global_step"] > 0
    assert summary["pretrained"]["name"] == "MobileNet_V3_Small_Weights.IMAGENET1K_V1"
    assert summary["pretrained"]["file_name"] == TV_FILE
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["model"]["pretrained"]["licence"] == summary["pretrained"]["licence"]
    assert manifest["input"]["resize_mode"] == "crop" and "centred square" in manifest["input"]["resize"]
    assert manifest["normalization"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    # The last epoch's weights (best.ckpt may be the frozen first epoch's): a backbone tensor started from the
    # file and was fine-tuned a little once the backbone thawed.
    trained = load_trained(info["run"] / "checkpoints" / "last.ckpt").classifier.net.state_dict()
    stem = "features.0.0.weight"
    delta = (trained[stem] - info["pretrained"][stem]).abs().max().item()
    assert 0 < delta < 0.05 * info["pretrained"][stem].abs().max().item()


def test_every_artifact_verifies_and_crops_in_its_runtime(finetuned) -> None:
    bundle, _ = finetuned
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert {a["format"] for a in manifest["artifacts"]} == set(FORMATS)
    assert manifest["verification"]["passed"] is True
    rng = np.random.default_rng(0)
    centre = rng.integers(0, 256, (2, 90, 90, 3), dtype=np.uint8)
    left, right = (rng.integers(0, 256, (2, 90, n, 3), dtype=np.uint8) for n in (30, 31))
    wide = np.ascontiguousarray(np.concatenate([left, centre, right], axis=2))  # 90 x 151: centre at 30..120
    for artifact in manifest["artifacts"]:
        backend = open_backend(artifact["runtime"], bundle / artifact["file"], threads=2)
        on_centre, on_wide = backend.run(centre)[0], backend.run(wide)[0]
        assert np.abs(on_centre - on_wide).max() <= 1e-5, artifact["format"]


def test_a_timm_model_fine_tunes_from_a_hub_snapshot_and_exports_verified(
    tmp_path: Path, no_network_module: None, photo_folder: Callable[..., Path], weights_cache
) -> None:
    from huggingface_hub import constants

    weights_cache.timm(tmp_path / "hf", "timm/test_convnext.r160_in1k")
    config = TrainConfig(
        data=DataConfig(
            source="imagefolder",
            root=photo_folder(tmp_path / "photos", per_class=6),
            image_size="auto",
            cache_dir=tmp_path / "cache",
        ),
        model=ModelConfig(name="timm/test_convnext", pretrained=True),
        optim=OptimConfig(optimizer="adamw", lr=1e-3, backbone_lr_scale=0.1),
        trainer={"max_epochs": 2, "enable_progress_bar": False, "enable_model_summary": False},
        out=tmp_path / "run",
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
        summary = train(config).summary
    assert summary["image_size"] == 160 and summary["pretrained"]["name"] == "timm/test_convnext.r160_in1k"
    assert summary["pretrained"]["licence"] == "apache-2.0" and summary["global_step"] > 0
    assert export_command(tmp_path / "run", out=tmp_path / "bundle", formats="onnx,torchscript", n=50) == 0
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["verification"]["passed"] is True
    assert manifest["model"]["pretrained"]["source"] == "timm (Hugging Face Hub)"
