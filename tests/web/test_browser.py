"""The web app in headless Chromium gives Python's predictions on the same files (conftest.py makes the
bundle, the images and the site), explains files and bundles it cannot read, and works offline."""

from __future__ import annotations

import os
import shutil

import numpy as np

from lightship.web import build_site

from .support import LABELS, REPO, run_browser, serving

SCREENSHOT = REPO / "docs" / "images" / "web-app.png"


def score_diffs(results: list[dict], python: dict[str, np.ndarray]) -> dict[str, float]:
    """file -> |top-1 probability difference|, after asserting the same top-1 label as Python."""
    diffs: dict[str, float] = {}
    for result in results:
        expected = python[result["file"]]
        assert result["label"] == LABELS[int(np.argmax(expected))], (
            f"{result['file']}: top-1 differs from Python"
        )
        diffs[result["file"]] = abs(float(result["score"]) - float(expected.max()))
    return diffs


def worst(diffs: dict[str, float], suffix: str) -> float:
    return max(d for name, d in diffs.items() if name.endswith(suffix))


def test_page_matches_python_and_works_offline(
    node, chromium, site_url, images, python_predictions, tmp_path
):
    not_image = tmp_path / "notes.txt"
    not_image.write_text("not an image")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    shot = tmp_path / "page.png"
    report = run_browser(
        node, f"{site_url}?backend=wasm", [*images, not_image, broken], "--screenshot", str(shot), "--offline"
    )
    assert report["status"] == "ready", report
    assert report["crossOriginIsolated"] is True
    assert report["failedRequests"] == [] and report["consoleErrors"] == [], report
    predictions = [r for r in report["results"] if r["testid"] == "prediction"]
    errors = {r["file"]: r["error"] for r in report["results"] if r["testid"] == "error"}
    assert sorted(r["file"] for r in predictions) == sorted(p.name for p in images)
    assert "not an image" in errors["notes.txt"] and "cannot decode" in errors["broken.jpg"], errors

    diffs = score_diffs(predictions, python_predictions)
    print(
        f"\nbrowser vs Python ONNX Runtime, top-1 probability max |diff|: "
        f"PNG {worst(diffs, '.png'):.2e}, JPEG {worst(diffs, '.jpg'):.2e}"
    )
    assert worst(diffs, ".png") <= 1e-4, diffs

    offline = report["offline"]
    assert offline["status"] == "ready", offline
    assert offline["results"][0]["score"] == predictions[0]["score"], offline
    assert shot.stat().st_size > 10_000  # a real page screenshot, not an empty image
    if os.environ.get(
        "LIGHTSHIP_UPDATE_SCREENSHOTS"
    ):  # refresh the docs' picture; tests leave the tree clean
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_page_explains_a_bundle_it_cannot_read(node, chromium, bundle, web_dist, tmp_path):
    site = build_site(bundle, tmp_path / "site")
    model = site / "bundle" / "model.onnx"
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    with serving(site) as url:
        report = run_browser(node, url, [])
    assert report["status"] == "no model"
    assert "does not match its sha256" in report["bundleError"], report
