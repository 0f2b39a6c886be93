"""Broken artifacts are caught: for each kind of fault a buggy exporter could make (a shifted mean, a resize
unlike the training path's, a quantised model with one class collapsed, an "int8" file with nothing
quantised, a tampered sample file), export fails naming the gate and by how much, and every Python runtime,
``serve`` and the web-site builder refuse the artifact unless explicitly allowed (tests/web covers the page
and the Node runner)."""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import lightship
from lightship.bundle.manifest import read_manifest
from lightship.errors import BundleError
from lightship.export import verify_bundle
from lightship.models import resize_to
from lightship.runtime.backends import RUNTIMES
from lightship.serve import create_app
from lightship.training import load_trained
from lightship.web import build_site


def failures(bundle: Path) -> dict[str, list[str]]:
    return {a["format"]: a["verification"]["failures"] for a in read_manifest(bundle)["artifacts"]}


def assert_refused_everywhere(bundle: Path, gate: str, formats: list[str]) -> None:
    """Each runtime (by format and by runtime name), serve and the site builder refuse, naming the gate;
    the explicit override works and every prediction says it was used."""
    manifest = read_manifest(bundle)
    for name in formats:
        runtime = next(a["runtime"] for a in manifest["artifacts"] if a["format"] == name)
        with pytest.raises(BundleError, match=rf"'{name}'.*failed verification.*{gate}"):
            lightship.load(bundle, format=name, threads=1)
        with pytest.raises(BundleError, match=gate):
            lightship.load(bundle, runtime=runtime, threads=1)
        used = lightship.load(bundle, format=name, threads=1, allow_unverified=True)
        prediction = used.predict(np.full((40, 30, 3), 128, np.uint8))
        assert gate in prediction.unverified and gate in prediction.to_dict()["unverified"]
    with pytest.raises(BundleError, match=gate):
        create_app(bundle, runtime=manifest["artifacts"][0]["runtime"], threads=1)
    if any(a["runtime"] == "onnxruntime" for a in manifest["artifacts"]):
        with pytest.raises(BundleError, match=gate):
            build_site(bundle, bundle.parent / f"{bundle.name}-site")


def test_a_shifted_mean_fails_export_by_name_and_amount_and_is_refused(shifted_mean_bundle):
    code, printed, bundle = shifted_mean_bundle
    assert code == 1
    found = failures(bundle)
    for name in ("onnx", "openvino", "torchscript"):
        assert any(f.startswith("fp32.max_abs_prob_diff:") and "(by " in f for f in found[name]), found[name]
    assert "verification failed" in printed and "fp32.max_abs_prob_diff" in printed and "(by " in printed
    assert_refused_everywhere(bundle, "fp32.max_abs_prob_diff", ["onnx", "openvino", "torchscript"])


def _float_resize(wrapper: nn.Module) -> None:
    """The resize without the pipeline's rounding to uint8 levels: what artifacts did before issue 11."""
    pre = wrapper.classifier.preprocess
    pre.resize = types.MethodType(lambda self, x, valid=None: resize_to(x, self.image_size), pre)


def test_a_resize_unlike_the_training_paths_fails_the_off_size_gates(digits_run, export_broken, tmp_path):
    code, _, bundle = export_broken(
        digits_run, tmp_path / "broken-resize", ["onnx", "openvino", "torchscript"], _float_resize
    )
    assert code == 1
    found = failures(bundle)
    # Torch kernels must match bit for bit; the others may differ by one level on 0.1% of values at most.
    assert any(f.startswith("off_size.pixels_max_diff:") for f in found["torchscript"]), found
    for name in ("onnx", "openvino"):
        assert any(f.startswith("off_size.pixels_differing:") for f in found[name]), found
    figures = read_manifest(bundle)["artifacts"][0]["verification"]["figures"]
    assert figures["model_size"]["max_abs_prob_diff"] <= 1e-4, "at the model's size the resize is not used"
    assert_refused_everywhere(bundle, "off_size.pixels", ["onnx", "torchscript"])


class _Collapsed(nn.Module):
    """The head, with one class's logit pushed so low that it is never predicted."""

    def __init__(self, head: nn.Module, num_classes: int, collapsed: int) -> None:
        super().__init__()
        self.head = head
        self.register_buffer(
            "penalty", torch.nn.functional.one_hot(torch.tensor(collapsed), num_classes) * 1e3
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x) - self.penalty


def _collapse_class_3(wrapper: nn.Module) -> None:
    net = wrapper.classifier.net
    net.head = _Collapsed(net.head, net.head.out_features, 3)


def test_a_quantised_model_with_one_class_collapsed_fails_the_int8_gates(digits_run, export_broken, tmp_path):
    code, _, bundle = export_broken(digits_run, tmp_path / "broken-int8", ["onnx-int8"], _collapse_class_3)
    assert code == 1
    found = failures(bundle)["onnx-int8"]
    assert any(f.startswith("int8.top1_agreement:") for f in found), found
    assert any(f.startswith("int8.accuracy_drop:") for f in found), found
    layers = read_manifest(bundle)["artifacts"][0]["verification"]["figures"]["artifact"]
    assert layers["quantized_layers"] >= 1, "it is a real int8 model: the gates that fail are the answers'"
    assert_refused_everywhere(bundle, "int8.top1_agreement", ["onnx-int8"])


def test_an_int8_file_with_nothing_quantised_is_left_out_of_a_default_export(
    digits_run, export_broken, tmp_path
):
    """The default set keeps what passes: the all-float "int8" file is removed and the manifest says why."""
    code, printed, bundle = export_broken(
        digits_run,
        tmp_path / "float-int8",
        None,
        exporter_of=lambda name: "onnx" if name == "onnx-int8" else name,
    )
    assert code == 0, printed
    manifest = read_manifest(bundle)
    assert [a["format"] for a in manifest["artifacts"]] == ["onnx", "torchscript"]
    assert "onnx-int8" not in manifest["runtime_preference"] and not (bundle / "model.int8.onnx").exists()
    (left,) = manifest["left_out"]
    assert left["format"] == "onnx-int8" and "int8.quantized_layers: 0 < 1" in left["reason"]
    assert "left out of the bundle" in printed and "onnx-int8" in printed


def test_a_tampered_sample_file_is_refused_everywhere(digits_bundle, tmp_path, flip_byte):
    bundle = tmp_path / "bundle"
    shutil.copytree(digits_bundle, bundle)
    flip_byte(bundle / "samples.npz")
    with pytest.raises(BundleError, match=r"samples\.npz does not match its sha256"):
        verify_bundle(bundle)
    for runtime in RUNTIMES.names():
        with pytest.raises(BundleError, match=r"samples\.npz does not match its sha256"):
            lightship.load(bundle, runtime=runtime, allow_unverified=True)
    with pytest.raises(BundleError, match=r"samples\.npz"):
        create_app(bundle)
    with pytest.raises(BundleError, match=r"samples\.npz"):
        build_site(bundle, tmp_path / "site")


def test_a_bundle_exported_without_verification_is_refused_until_verified(digits_run, tmp_path):
    trained = load_trained(digits_run)
    bundle, report = lightship.export_bundle(
        trained.classifier, trained.meta, tmp_path / "b", ["onnx"], verify=False, verify_n=100
    )
    assert report is None
    with pytest.raises(BundleError, match=r"unverified \(exported with --verify false\).*--record true"):
        lightship.load(bundle)
    assert verify_bundle(bundle, record=True).passed
    assert lightship.load(bundle, threads=1).unverified is None
    assert json.loads((bundle / "manifest.json").read_text())["verification"]["passed"] is True
