"""--model.weights reads anything lightship wrote (run folder, .ckpt, bundle, reference.pt) and plain
state_dicts, loads what fits and names what stayed fresh."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lightship.bundle.reference import REFERENCE_NAME
from lightship.models import create_model
from lightship.models.weights import FOLDER_WEIGHTS, WeightsError, load_weights, read_weights
from lightship.training import load_classifier
from lightship.training.runfolder import RunFolder

KWARGS = {"widths": [16, 32, 32], "bn_eps": 1e-5}  # digits_run's network


def _net(num_classes: int) -> torch.nn.Module:
    torch.manual_seed(123)
    return create_model("airbench", num_classes, **KWARGS)


@pytest.fixture(scope="module")
def trained(digits_run: Path) -> dict[str, torch.Tensor]:
    return load_classifier(digits_run)[0].net.state_dict()


def _sources(run: Path, bundle: Path) -> dict[str, Path]:
    return {
        "run folder": run,
        "best.ckpt": run / "checkpoints" / "best.ckpt",
        "last.ckpt": run / "checkpoints" / "last.ckpt",
        "bundle folder": bundle,
        "reference.pt": bundle / REFERENCE_NAME,
    }


@pytest.mark.parametrize("kind", ["run folder", "best.ckpt", "bundle folder", "reference.pt"])
def test_lightship_outputs_load_except_a_head_for_other_classes(
    kind, digits_run, digits_bundle, trained
) -> None:
    net = _net(num_classes=3)
    report = load_weights(net, _sources(digits_run, digits_bundle)[kind])
    assert report.fresh == ["head.weight"]  # airbench's head is one bias-free linear layer
    state = net.state_dict()
    for name in report.loaded:
        assert torch.equal(state[name], trained[name]), name
    assert report.meta is not None and report.meta["class_names"] == [str(d) for d in range(10)]
    text = report.summary()
    assert "loaded" in text and "stay freshly initialised (head)" in text


def test_same_classes_load_everything(digits_run, trained) -> None:
    net = _net(num_classes=10)
    report = load_weights(net, digits_run)
    assert report.fresh == [] and len(report.loaded) == len(trained)


def test_plain_and_wrapped_state_dicts(tmp_path, trained) -> None:
    torch.save(trained, tmp_path / "plain.pt")
    torch.save({f"module.{k}": v for k, v in trained.items()}, tmp_path / "ddp.pth")
    for name in ("plain.pt", "ddp.pth"):
        report = load_weights(_net(10), tmp_path / name)
        assert report.fresh == [] and report.meta is None, name


def test_weights_of_another_architecture_are_refused(tmp_path) -> None:
    torch.save(create_model("resnet18_cifar", 10).state_dict(), tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"none of its \d+ tensors fit"):
        load_weights(_net(10), tmp_path / "w.pt")


def test_files_and_folders_that_hold_no_weights(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(WeightsError, match="not a readable weights file"):
        read_weights(tmp_path / "notes.txt")
    with pytest.raises(WeightsError, match="without weights"):
        read_weights(tmp_path)
    with pytest.raises(WeightsError, match="do not exist"):
        read_weights(tmp_path / "missing.pt")


def test_the_folder_layouts_it_knows_are_the_run_folders_and_the_bundles(tmp_path) -> None:
    run = RunFolder(tmp_path)
    assert (
        run.best.relative_to(tmp_path).as_posix(),
        run.last.relative_to(tmp_path).as_posix(),
        REFERENCE_NAME,
    ) == FOLDER_WEIGHTS
