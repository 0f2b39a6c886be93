"""The Node runner (node/lightship.mjs: onnxruntime-node + sharp) prints `lightship predict --json` lines
that agree with Python ONNX Runtime on the same files."""

from __future__ import annotations

import json
from pathlib import Path

from .support import run_node
from .test_browser import score_diffs, worst


def test_node_matches_python(node_runner, bundle, images, python_predictions):
    done = run_node(
        node_runner, "node/lightship.mjs", "predict", str(bundle), *map(str, images), "--top-k", "3"
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(p) for p in images]
    assert all(set(line) == {"path", "label", "score", "top_k"} and len(line["top_k"]) == 3 for line in lines)
    results = [
        {"file": Path(line["path"]).name, "label": line["label"], "score": line["score"]} for line in lines
    ]
    diffs = score_diffs(results, python_predictions)
    print(
        f"\nNode vs Python ONNX Runtime, top-1 probability max |diff|: "
        f"PNG {worst(diffs, '.png'):.2e}, JPEG {worst(diffs, '.jpg'):.2e}"
    )
    assert worst(diffs, ".png") <= 1e-4, diffs


def test_node_skips_what_it_cannot_decode(node_runner, bundle, tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    done = run_node(node_runner, "node/lightship.mjs", "predict", str(bundle), str(tmp_path / "notes.txt"))
    assert done.returncode == 1 and "skipped" in done.stderr and "no image could be classified" in done.stderr


def test_node_refuses_a_folder_that_is_not_a_bundle(node_runner, tmp_path):
    done = run_node(node_runner, "node/lightship.mjs", "predict", str(tmp_path), str(tmp_path))
    assert done.returncode == 2 and "not a bundle" in done.stderr
