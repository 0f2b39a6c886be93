"""Temperature scaling: the fit recovers a known temperature, stays finite on a split without mistakes, is
stored once per checkpoint in the run folder, is never fitted without a validation split, and a run and its
bundle give the same probabilities."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

import lightship
from lightship.bundle.manifest import read_manifest
from lightship.files import sha256_file
from lightship.training import load_trained
from lightship.training.calibration import (
    calibrate_logits,
    fit_temperature,
    run_calibration,
)


def sampled(temperature: float, n: int = 20000, classes: int = 10, seed: int = 0):
    """Logits and labels drawn from softmax(logits / temperature): data whose best temperature is known."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, classes, generator=generator) * 4.0
    labels = torch.multinomial((logits / temperature).softmax(1), 1, generator=generator).squeeze(1)
    return logits, labels


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_the_fit_recovers_the_temperature_the_labels_were_drawn_with(temperature):
    assert fit_temperature(*sampled(temperature)) == pytest.approx(temperature, rel=0.05)


def test_calibration_lowers_the_error_it_reports():
    logits, labels = sampled(2.0)
    result = calibrate_logits(logits, labels, "sha")
    assert result.fitted and result.ece_after < result.ece_before / 3 and result.nll_after < result.nll_before


def test_a_split_without_mistakes_keeps_a_finite_temperature():
    logits = torch.eye(10).repeat(50, 1) * 3.0  # every image right, with a modest margin
    labels = torch.arange(10).repeat(50)
    temperature = fit_temperature(logits, labels)
    assert 0.1 < temperature < 1.0  # sharper than raw, not the plain fit's collapse towards 0


def test_the_run_stores_one_temperature_per_checkpoint(digits_run):
    stored = json.loads((digits_run / "calibration.json").read_text())  # fitted when training ended
    assert stored["fitted"] is True and stored["split"] == "val" and stored["images"] > 100
    assert stored["checkpoint_sha256"] == sha256_file(digits_run / "checkpoints" / "best.ckpt")
    assert stored["ece_after"] < stored["ece_before"]
    summary = json.loads((digits_run / "summary.json").read_text())
    assert summary["temperature"] == stored["temperature"] != 1.0
    trained = load_trained(digits_run)
    assert trained.meta.temperature == trained.classifier.temperature == stored["temperature"]
    assert load_trained(digits_run, calibrate=False).classifier.temperature == 1.0


def test_nothing_is_fitted_without_a_validation_split(digits_run, tmp_path):
    trained = load_trained(digits_run, calibrate=False)
    no_val = replace(trained.require_data_config(), val_fraction=0.0)
    result = run_calibration(tmp_path / "calibration.json", trained.checkpoint, trained.classifier, no_val)
    assert not result.fitted and result.temperature == 1.0 and "no validation split" in result.reason
    assert "never fitted on the test split" in result.reason


def test_a_run_and_its_bundle_give_the_same_probabilities(digits_run, digits_bundle, tmp_path):
    manifest = read_manifest(digits_bundle)
    trained = load_trained(digits_run)
    assert manifest["calibration"]["temperature"] == trained.meta.temperature
    assert manifest["calibration"]["fitted"] is True
    assert manifest["calibration"]["test_ece_after"] < manifest["calibration"]["test_ece_before"]
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    with torch.inference_mode():
        run_probs = trained.classifier.probabilities(trained.classifier(torch.from_numpy(images))).numpy()
    for runtime in ("onnxruntime", "torchscript"):
        bundle_probs = lightship.load(digits_bundle, runtime=runtime, threads=1).predict_probs(list(images))
        np.testing.assert_allclose(bundle_probs, run_probs, atol=2e-5)
    report = lightship.evaluate(trained, out=tmp_path / "report")
    assert report["calibration"]["temperature"] == trained.meta.temperature
    assert report["ece"] == report["calibration"]["ece_after"] < report["calibration"]["ece_before"]
