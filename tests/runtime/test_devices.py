"""``device="cuda"``: ONNX Runtime's CUDA provider when onnxruntime-gpu and a GPU are there, a clear error
otherwise; and the ``max_input`` bound every runtime enforces from the manifest."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnxruntime as ort
import pytest

import lightship
from lightship.errors import LightshipError
from lightship.runtime.backends import ImageTooLargeError
from lightship.runtime.backends.onnxruntime import DeviceUnavailableError, providers

from ..conftest import odd_images


def test_cuda_runs_on_the_cuda_provider_or_says_why_not(digits_bundle):
    if "CUDAExecutionProvider" in ort.get_available_providers():  # a GPU machine with onnxruntime-gpu
        for name in ("onnx", "onnx-fp16"):
            predictor = lightship.load(digits_bundle, format=name, device="cuda")
            assert predictor.backend.session.get_providers()[0] == "CUDAExecutionProvider"
            cpu = lightship.load(digits_bundle, format=name)
            images = odd_images()[:10]
            np.testing.assert_allclose(predictor.predict_probs(images), cpu.predict_probs(images), atol=1e-2)
    else:
        with pytest.raises(DeviceUnavailableError, match="onnxruntime-gpu"):
            lightship.load(digits_bundle, device="cuda")


def test_cuda_is_for_runtimes_that_have_it(digits_bundle):
    with pytest.raises(LightshipError, match=r"'cuda' is not a device of torchscript .* onnxruntime"):
        lightship.load(digits_bundle, runtime="torchscript", device="cuda")
    with pytest.raises(LightshipError, match="unknown device 'tpu'; choose one of cpu, cuda"):
        lightship.load(digits_bundle, device="tpu", format="onnx")


def test_a_manifest_bound_is_enforced_in_every_runtime(digits_bundle, tmp_path):
    copy = tmp_path / "bounded"
    shutil.copytree(digits_bundle, copy, ignore=shutil.ignore_patterns("*.pt2", "*.pte", "*.mlpackage"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["artifacts"] = [
        a for a in manifest["artifacts"] if a["runtime"] in ("onnxruntime", "torchscript")
    ]
    for artifact in manifest["artifacts"]:
        artifact["max_input"] = {"height": 64, "width": 48}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    for runtime in ("onnxruntime", "torchscript"):
        predictor = lightship.load(copy, runtime=runtime, threads=1)
        assert predictor.predict(np.zeros((64, 48, 3), np.uint8)).probs.shape == (10,)
        with pytest.raises(ImageTooLargeError, match=r"takes images up to 64x48 .* this one is 64x49"):
            predictor.predict(np.zeros((64, 49, 3), np.uint8))


def test_cuda_provider_turns_tf32_off_for_float32_artifacts_only(monkeypatch):
    """TF32 (the CUDA provider's default) moved CIFAR-10 probabilities by 5.4e-4 on an H200, beyond the 1e-4
    fp32 gate: fp32 (and int8's float parts) run without it; fp16 keeps the defaults. Checks the options the
    session is given, so it needs no GPU."""
    monkeypatch.setattr(
        ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    cpu = "CPUExecutionProvider"
    assert providers("cuda", "fp32") == [("CUDAExecutionProvider", {"use_tf32": "0"}), cpu]
    assert providers("cuda", "int8") == [("CUDAExecutionProvider", {"use_tf32": "0"}), cpu]
    assert providers("cuda", "fp16") == [("CUDAExecutionProvider", {}), cpu]
    assert providers("cpu", "fp32") == [cpu]
