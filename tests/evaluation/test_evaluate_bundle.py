"""``lightship evaluate BUNDLE``: what ships, scored on labelled data in any runtime, with the report a run
gets; the digits are fed at their own 8x8 size, so the artifact's own resize is what is measured."""

from __future__ import annotations

import json

import pytest

from lightship.data import DataConfig
from lightship.errors import DataError
from lightship.evaluation import evaluate
from lightship.evaluation.command import evaluate_bundle, evaluate_command


@pytest.mark.parametrize("runtime", ["onnxruntime", "torchscript"])
def test_a_bundle_scores_like_its_run(digits_run, digits_bundle, tmp_path, runtime):
    run = evaluate(digits_run, out=tmp_path / "run")
    shipped = evaluate_bundle(
        digits_bundle, DataConfig(source="digits"), out=tmp_path / runtime, runtime=runtime
    )
    assert shipped["artifact"]["runtime"] == runtime and shipped["artifact"]["unverified"] is None
    assert shipped["num_images"] == run["num_images"] and shipped["top1"] == run["top1"]
    assert shipped["confusion_matrix"] == run["confusion_matrix"]
    assert shipped["ece"] == pytest.approx(run["ece"], abs=1e-4)
    assert shipped["calibration"]["temperature"] == run["calibration"]["temperature"] != 1.0
    assert set(shipped) >= set(run) - {"checkpoint"}
    assert json.loads((tmp_path / runtime / "report.json").read_text())["bundle"] == str(digits_bundle)
    assert "Bundle `" in (tmp_path / runtime / "report.md").read_text()


def test_a_bundle_needs_labelled_data_and_no_tta(digits_bundle):
    with pytest.raises(DataError, match="does not record where its data lives"):
        evaluate_command(digits_bundle)
    with pytest.raises(DataError, match="--tta applies to runs only"):
        evaluate_command(digits_bundle, data=DataConfig(source="digits"), tta=1)
