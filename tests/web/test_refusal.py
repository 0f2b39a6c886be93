"""The Node runner and the page refuse an artifact that failed verification, naming it and its gate, and a
bundle whose proof (samples) was altered; the explicit override works and marks every result. The page's
LiteRT.js backend refuses a web-litert artifact whose files were altered, that is unverified or that LiteRT.js
cannot load, and runs the ONNX artifact instead, naming the reason."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from lightship.web import build_site

from .parity import PROB_TOL
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


def _falls_back_to_onnx(report: dict, reason: str, reference: dict) -> None:
    """The page is ready on onnxruntime-web's WebAssembly with the ``onnx`` artifact, names why LiteRT.js was not
    used, and answers as Python's ONNX Runtime does."""
    assert report["status"] == "ready" and report["consoleErrors"] == [], report
    info = report["info"]
    assert info.startswith("WebAssembly, ") and f", onnx (not used: litert: {reason}" in info, info
    for card in report["results"]:
        delta = np.abs(np.asarray(json.loads(card["probs"])) - reference[card["file"]].probs).max()
        assert delta <= PROB_TOL, (card["file"], delta)


@pytest.mark.parametrize("name", ["model.web.pixels.onnx", "model.web.tflite"])
def test_page_refuses_a_tampered_web_litert_file_and_says_which(
    node, chromium, bundle, web_dist, images, reference, tmp_path, flip_byte, name
):
    site = build_site(bundle, tmp_path / "site")
    flip_byte(site / "bundle" / name)
    with serving(site) as url:
        fallback = run_browser(node, url, images[:1])
        forced = run_browser(node, f"{url}?backend=litert", [])
    reason = f"{name} does not match its sha256 in manifest.json"
    _falls_back_to_onnx(fallback, reason, reference)
    assert forced["status"] == "no model" and f"litert: {reason}" in forced["bundleError"], forced


def _edit_web_litert(site, change) -> None:
    """Apply ``change`` to the web-litert entry of the site's manifest.json."""
    path = site / "bundle" / "manifest.json"
    manifest = json.loads(path.read_text())
    change(next(a for a in manifest["artifacts"] if a["format"] == "web-litert"))
    path.write_text(json.dumps(manifest))


def test_page_runs_no_unverified_web_litert_artifact_while_onnx_is_verified(
    node, chromium, bundle, web_dist, images, reference, tmp_path
):
    """Not even with ?allow-unverified=1, which lets an unverified artifact run only where no verified one can
    (as among ONNX artifacts)."""
    site = build_site(bundle, tmp_path / "site")
    failure = "fp32.max_abs_prob_diff: 0.002 > 0.0001 (by 0.0019)"
    _edit_web_litert(site, lambda a: a["verification"].update(passed=False, failures=[failure]))
    with serving(site) as url:
        refused = run_browser(node, url, images[:1])
        allowed = run_browser(node, f"{url}?allow-unverified=1", images[:1])
    reason = f"refusing to use an unverified artifact: artifact 'web-litert' (model.web.tflite) failed verification: {failure}"
    _falls_back_to_onnx(refused, reason, reference)
    _falls_back_to_onnx(allowed, reason, reference)
    assert "unverified" not in allowed["results"][0], allowed


def test_page_falls_back_when_litert_cannot_load_the_model(
    node, chromium, bundle, web_dist, images, reference, tmp_path
):
    """A .tflite that matches its record but is not a model (a bundle exported wrongly): LiteRT.js's refusal is
    the reason shown."""
    site = build_site(bundle, tmp_path / "site")
    model = site / "bundle" / "model.web.tflite"
    model.write_bytes(b"not a TFLite flatbuffer" * 64)
    data = model.read_bytes()

    def rehash(artifact: dict) -> None:
        record = next(r for r in artifact["files"] if r["path"] == "model.web.tflite")
        record.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())

    _edit_web_litert(site, rehash)
    with serving(site) as url:
        report = run_browser(node, url, images[:1])
    _falls_back_to_onnx(report, "Failed to load model from buffer", reference)


def test_page_fetches_no_model_file_from_outside_the_bundle_folder(
    node, chromium, bundle, web_dist, images, reference, tmp_path
):
    """'%2e%2e/' passes the file-path check ('..' parts) but a URL resolves it as '..': the page checks where each
    file's URL lands, even when the file there matches its sha256."""
    site = build_site(bundle, tmp_path / "site")
    shutil.copyfile(site / "bundle" / "model.web.pixels.onnx", site / "model.web.pixels.onnx")
    path = "%2e%2e/model.web.pixels.onnx"

    def escape(artifact: dict) -> None:
        next(r for r in artifact["files"] if r["path"] == "model.web.pixels.onnx")["path"] = path

    _edit_web_litert(site, escape)
    with serving(site) as url:
        report = run_browser(node, url, images[:1])
    _falls_back_to_onnx(report, f'manifest.json: file path "{path}" resolves outside the bundle', reference)
