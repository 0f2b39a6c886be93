"""`lightship web` without a browser: the site's files, atomic replacement, errors, and the server's headers."""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lightship.errors import BundleError, LightshipError
from lightship.web import build_site, web_command
from lightship.web.site import WebBuildMissing

from .support import serving

#: LiteRT.js's builds the site serves (web/build.mjs): relaxed SIMD, relaxed SIMD + threads, plain SIMD.
LITERT_BUILDS = ("", "threaded_", "compat_")


def test_site_holds_the_app_the_model_and_an_offline_list(bundle, web_dist, tmp_path):
    assert web_command(bundle, tmp_path / "site") == 0
    site = tmp_path / "site"
    for name in (
        "index.html",
        "app.js",
        "sw.js",
        "ort/ort.min.mjs",
        "ort/ort.wasm.min.mjs",
        *(f"litert/litert_wasm_{build}internal.{ext}" for build in LITERT_BUILDS for ext in ("js", "wasm")),
        "bundle/manifest.json",
        "bundle/model.onnx",
    ):
        assert (site / name).is_file(), name
    assert not list(site.glob("litert/*jspi*")), "LiteRT.js's JSPI build is never loaded"
    listing = json.loads((site / "offline.json").read_text())
    assert "bundle/model.onnx" in listing["files"] and "./" in listing["files"]
    assert "litert/litert_wasm_internal.wasm" in listing["files"]
    # cached when a WebGPU page first loads them, not on install (sw.js); the fallback onnx model is precached
    assert listing["on_use"] == ["bundle/model.fp16.onnx", "bundle/model.webgpu.onnx"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "temp folder left behind"


@pytest.mark.parametrize(
    ("names", "tampered"),
    [
        (("model.onnx", "model.webgpu.onnx", "model.fp16.onnx"), "model.fp16.onnx"),
        (("model.web.tflite", "model.web.pixels.onnx"), "model.web.pixels.onnx"),
    ],
    ids=["webgpu", "web-litert"],
)
def test_site_carries_each_backends_models_when_the_bundle_has_them(
    bundle, web_dist, tmp_path, names, tampered
):
    """The page runs web-litert in LiteRT.js (its default on WebAssembly, web/src/model.js) and onnx-fp16 or
    onnx-webgpu on WebGPU (web/src/app.js), so the site copies them beside the fp32 ONNX one, each checked
    against its sha256."""
    site = build_site(bundle, tmp_path / "site")
    for name in names:
        assert (site / "bundle" / name).read_bytes() == (bundle / name).read_bytes(), name
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    (copy / tampered).write_bytes(b"tampered")
    with pytest.raises(BundleError, match=re.escape(tampered) + " does not match its sha256"):
        build_site(copy, tmp_path / "site2")


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


def test_published_manifest_has_no_local_paths(bundle, web_dist, tmp_path: Path):
    private = tmp_path / "private-bundle"
    shutil.copytree(bundle, private)
    manifest = json.loads((private / "manifest.json").read_text())
    secret = "/home/alice/secret-photos"
    manifest["samples"]["source"] = f"imagefolder:{secret} test split"
    manifest.setdefault("verification", {})["data"] = f"imagefolder:{secret} test split"
    (private / "manifest.json").write_text(json.dumps(manifest))
    site = build_site(private, tmp_path / "site")
    published = (site / "bundle" / "manifest.json").read_text()
    assert secret not in published and "alice" not in published
    assert json.loads(published)["artifacts"] == manifest["artifacts"]  # the page still checks the files


def test_server_lists_no_folders(bundle, web_dist, tmp_path: Path):
    site = build_site(bundle, tmp_path / "site")
    with serving(site) as url:
        for folder in ("ort/", "bundle/"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + folder)
            assert refused.value.code == 404, folder
            assert "model.onnx" not in refused.value.read().decode(errors="replace")
        with urllib.request.urlopen(url) as page:  # index.html still answers for /
            assert page.status == 200
