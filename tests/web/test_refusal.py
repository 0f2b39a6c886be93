"""The Node runner and the page refuse an artifact that failed verification, naming it and its gate, and a
bundle whose proof (samples) was altered; the explicit override works and marks every result."""

from __future__ import annotations

import json
import shutil

from lightship.web import build_site

from .support import run_browser, run_node, serving


def test_node_refuses_a_failed_artifact_unless_allowed(node_runner, shifted_mean_bundle, images):
    _, _, bundle = shifted_mean_bundle
    refused = run_node(node_runner, "node/lightship.mjs", "predict", str(bundle), str(images[0]))
    assert refused.returncode == 2, refused.stderr
    assert "'onnx' (model.onnx) failed verification: fp32.max_abs_prob_diff" in refused.stderr
    allowed = run_node(
        node_runner, "node/lightship.mjs", "predict", str(bundle), *map(str, images[:2]), "--allow-unverified"
    )
    assert allowed.returncode == 0, allowed.stderr
    lines = [json.loads(line) for line in allowed.stdout.splitlines()]
    assert len(lines) == 2 and all("fp32.max_abs_prob_diff" in line["unverified"] for line in lines)
    assert "--allow-unverified" in allowed.stderr


def test_node_refuses_a_bundle_whose_samples_were_altered(
    node_runner, digits_bundle, images, tmp_path, flip_byte
):
    bundle = tmp_path / "bundle"
    shutil.copytree(digits_bundle, bundle)
    flip_byte(bundle / "samples.npz")
    done = run_node(node_runner, "node/lightship.mjs", "predict", str(bundle), str(images[0]))
    assert done.returncode == 2 and "samples.npz does not match its sha256" in done.stderr


def test_page_refuses_a_failed_artifact_unless_allowed(
    node, chromium, web_dist, shifted_mean_bundle, images, tmp_path
):
    _, _, bundle = shifted_mean_bundle
    site = build_site(bundle, tmp_path / "site", allow_unverified=True)
    with serving(site) as url:
        refused = run_browser(node, f"{url}?backend=wasm", [])
        allowed = run_browser(node, f"{url}?backend=wasm&allow-unverified=1", images[:1])
    assert refused["status"] == "no model"
    assert "failed verification: fp32.max_abs_prob_diff" in refused["bundleError"], refused
    assert allowed["status"] == "ready", allowed
    (card,) = allowed["results"]
    assert "fp32.max_abs_prob_diff" in card["unverified"], card
