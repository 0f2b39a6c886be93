"""The Node runner (node/lightship.mjs: onnxruntime-node + sharp and the shared decoders) decodes every listed
format to Python's pixels and prints `lightship predict --json` lines with Python's probabilities on a trained
model (thresholds: parity.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .parity import PROB_TOL, check_thresholds, pixel_difference, read_pixels
from .support import run_node


def test_node_decodes_and_classifies_like_python(node_runner, bundle, images, reference, tmp_path):
    weakest = check_thresholds(reference)
    done = run_node(node_runner, "tests/web/pixels.mjs", str(tmp_path), *map(str, images))
    assert done.returncode == 0, done.stderr
    for path in images:
        pixels = read_pixels(tmp_path, path.name)
        assert not isinstance(pixels, str), f"{path.name}: {pixels}"
        most, fraction = pixel_difference(pixels, reference[path.name].pixels)
        assert most == 0, f"{path.name}: pixels differ from Python's by up to {most} levels ({fraction:.1%})"

    labels = json.loads((bundle / "manifest.json").read_text())["labels"]
    done = run_node(
        node_runner, "node/lightship.mjs", "predict", str(bundle), *map(str, images), "--top-k", "99"
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(p) for p in images]
    assert all(set(line) == {"path", "label", "score", "top_k"} for line in lines)
    worst = 0.0
    for path, line in zip(images, lines, strict=True):
        probs = np.zeros(len(labels))
        for entry in line["top_k"]:
            probs[labels.index(entry["label"])] = entry["score"]
        delta = float(np.abs(probs - reference[path.name].probs).max())
        assert delta <= PROB_TOL, f"{path.name}: probabilities differ by {delta:.2e}"
        worst = max(worst, delta)
    print(
        f"\nNode vs Python on {len(images)} files: pixels identical; max |Δprob| {worst:.1e} "
        f"(tolerance {PROB_TOL:.0e}; a one-level shift of one channel moves them by >= {weakest:.1e})"
    )


def test_node_skips_what_it_cannot_decode(node_runner, bundle, tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    done = run_node(node_runner, "node/lightship.mjs", "predict", str(bundle), str(tmp_path / "notes.txt"))
    assert done.returncode == 1 and "skipped" in done.stderr and "no image could be classified" in done.stderr


def test_node_refuses_a_folder_that_is_not_a_bundle(node_runner, tmp_path):
    done = run_node(node_runner, "node/lightship.mjs", "predict", str(tmp_path), str(tmp_path))
    assert done.returncode == 2 and "not a bundle" in done.stderr


@pytest.mark.parametrize("spelling", [["--top_k", "2"], ["--top-k", "2"], ["--top_k=2"]])
def test_node_takes_dashes_or_underscores_like_lightship(node_runner, bundle, images, spelling):
    done = run_node(node_runner, "node/lightship.mjs", "predict", str(bundle), str(images[0]), *spelling)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout.splitlines()[0])["top_k"]) == 2
