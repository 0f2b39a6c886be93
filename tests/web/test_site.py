"""`lightship web` without a browser: the site's files, atomic replacement, errors, and the server's headers."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from lightship.errors import BundleError, LightshipError
from lightship.web import build_site, web_command
from lightship.web.site import WebBuildMissing

from .support import serving


def test_site_holds_the_app_the_model_and_an_offline_list(bundle, web_dist, tmp_path):
    assert web_command(bundle, tmp_path / "site") == 0
    site = tmp_path / "site"
    for name in (
        "index.html",
        "app.js",
        "sw.js",
        "ort/ort.min.mjs",
        "bundle/manifest.json",
        "bundle/model.onnx",
    ):
        assert (site / name).is_file(), name
    listing = json.loads((site / "offline.json").read_text())
    assert "bundle/model.onnx" in listing["files"] and "./" in listing["files"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "temp folder left behind"


def test_rebuilding_replaces_a_site_but_never_another_folder(bundle, web_dist, tmp_path):
    site = build_site(bundle, tmp_path / "site")
    (site / "stale.txt").write_text("old")
    build_site(bundle, site)
    assert not (site / "stale.txt").exists()
    other = tmp_path / "photos"
    other.mkdir()
    (other / "keep.jpg").write_bytes(b"x")
    with pytest.raises(LightshipError, match="not a site written by `lightship web`"):
        build_site(bundle, other)
    assert (other / "keep.jpg").is_file()


def test_missing_build_says_how_to_build(bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTSHIP_WEB_DIST", str(tmp_path / "nowhere"))
    with pytest.raises(WebBuildMissing, match="npm ci --prefix web && npm run build --prefix web"):
        build_site(bundle, tmp_path / "site")


def test_bad_bundles_are_refused(bundle, web_dist, tmp_path):
    with pytest.raises(BundleError, match="not a bundle"):
        build_site(tmp_path, tmp_path / "site")
    manifest = json.loads((bundle / "manifest.json").read_text())
    no_onnx = tmp_path / "no-onnx"
    no_onnx.mkdir()
    (no_onnx / "manifest.json").write_text(json.dumps({**manifest, "artifacts": []}))
    with pytest.raises(BundleError, match="--formats onnx"):
        build_site(no_onnx, tmp_path / "site")


def test_server_sends_isolation_headers_and_wasm_type(bundle, web_dist, tmp_path: Path):
    site = build_site(bundle, tmp_path / "site")
    with (
        serving(site) as url,
        urllib.request.urlopen(url + "ort/ort-wasm-simd-threaded.jsep.wasm") as response,
    ):
        headers = response.headers
    assert headers["Content-Type"] == "application/wasm"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
