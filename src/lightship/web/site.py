"""Writing a self-contained static site: the built web app, the bundle's manifest and the artifacts the page
runs (ONNX, and LiteRT for its fastest CPU path), and ``offline.json`` (the file list the service worker
caches). Built in a temp folder, then renamed into place.

A site is published, so its manifest.json is the bundle's with local paths scrubbed
(:func:`lightship.runtime.public.scrub_local_paths`): the file records the page checks stay, where the
training data lives on this machine does not."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from lightship.bundle.integrity import MANIFEST_NAME, check_files, manifest_records
from lightship.bundle.manifest import preferred_artifacts, read_manifest
from lightship.bundle.verification import unverified_reason
from lightship.errors import BundleError, LightshipError
from lightship.files import publish_dir, staging_dir, write_json, write_text
from lightship.runtime.public import scrub_local_paths

#: Where the built app is looked for when LIGHTSHIP_WEB_DIST is not set: inside the installed package (a
#: wheel carries it, see setup.py), then web/dist of the source checkout.
PACKAGED_DIST = Path(__file__).resolve().parent / "dist"
REPO_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
REQUIRED = ("index.html", "app.js", "sw.js", "ort/ort.min.mjs")
#: The runtime whose artifacts the page can run (onnxruntime-web); which one it takes is the bundle's
#: preference, the same choice web/src/bundle-core.js makes.
WEB_RUNTIME = "onnxruntime"
#: Also copied when the bundle has them (web/src/app.js picks among them): ``web-litert`` for WebAssembly in
#: LiteRT.js (the page's fastest CPU path, docs/web.md "Backends"), and for WebGPU, whose kernels refuse the
#: antialiased Resize of the ``onnx`` artifact, ``onnx-fp16`` where the adapter has 'shader-f16', else fp32.
BACKEND_FORMATS = ("web-litert", "onnx-fp16", "onnx-webgpu")
#: Only pages that run on WebGPU load these: offline.json lists their files under ``on_use``, which the service
#: worker caches when a page first fetches them instead of on install (web/src/sw.js). Unless one is also the
#: WebAssembly fallback (a bundle without the ``onnx`` artifact).
WEBGPU_FORMATS = ("onnx-fp16", "onnx-webgpu")
OFFLINE_NAME = "offline.json"
GENERATOR = "lightship web"
#: Netlify / Cloudflare Pages header rules: cross-origin isolation lets onnxruntime-web use threads.
HEADERS_FILE = "/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n"


class WebBuildMissing(LightshipError):
    """The web app has not been built with npm."""


def web_dist() -> Path:
    """The built web app folder; WebBuildMissing saying how to build it when absent."""
    given = os.environ.get("LIGHTSHIP_WEB_DIST")
    candidates = [Path(given)] if given else [PACKAGED_DIST, REPO_DIST]
    for dist in candidates:
        missing = [name for name in REQUIRED if not (dist / name).is_file()]
        if not missing:
            return dist
    raise WebBuildMissing(
        f"the web app is not built ({candidates[-1]} lacks {', '.join(missing)}). In the lightship repository run "
        "`npm ci --prefix web && npm run build --prefix web` (Node 20+), or install a wheel built after that "
        "(it carries the app), or set LIGHTSHIP_WEB_DIST to a built web/dist folder"
    )


def _web_artifacts(bundle: Path, allow_unverified: bool) -> list[dict]:
    """The ONNX artifact the page falls back to on WebAssembly (the bundle's preference among ONNX ones, as
    bundle-core.js picks it), and those of ``BACKEND_FORMATS`` that the bundle has, after checking every file
    of the manifest: a bundle whose artifact or proof was altered is refused, and so is an unverified artifact
    unless ``allow_unverified`` (an unverified backend artifact is left out unless allowed)."""
    manifest = read_manifest(bundle)
    candidates = [a for a in preferred_artifacts(manifest) if a["runtime"] == WEB_RUNTIME]
    if not candidates:
        raise BundleError(f"{bundle} has no ONNX artifact for the browser; export it with --formats onnx")
    check_files(bundle, manifest_records(manifest))
    reasons = [unverified_reason(manifest, a, str(bundle)) for a in candidates]
    verified = [a for a, reason in zip(candidates, reasons, strict=True) if reason is None]
    if not verified and not allow_unverified:
        raise BundleError(
            "refusing to publish an unverified artifact: "
            + " | ".join(r for r in reasons if r)
            + ". Pass --allow-unverified to build the site anyway (the page then also needs ?allow-unverified=1)"
        )
    wasm = (verified or candidates)[0]
    others = [
        a
        for a in manifest["artifacts"]
        if a["format"] in BACKEND_FORMATS
        and a is not wasm
        and (allow_unverified or unverified_reason(manifest, a, str(bundle)) is None)
    ]
    return [wasm, *others]


def _offline_listing(site: Path, artifacts: list[dict]) -> dict:
    """Every file of ``site`` and a version hash of their contents; ``on_use``: the WebGPU-only model files
    (WEBGPU_FORMATS among ``artifacts[1:]``: ``artifacts[0]``, the WebAssembly fallback, is always precached)."""
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256((site / name).read_bytes()).digest())
    cached = ["./", *[name for name in files if not name.endswith(".map") and name != "_headers"]]
    on_use = sorted(
        f"bundle/{record['path']}"
        for artifact in artifacts[1:]
        if artifact["format"] in WEBGPU_FORMATS
        for record in artifact["files"]
    )
    return {"generator": GENERATOR, "version": digest.hexdigest()[:16], "files": cached, "on_use": on_use}


def _check_replaceable(out: Path) -> None:
    """An existing ``out`` may only be an earlier ``lightship web`` site: never replace other folders."""
    listing = out / OFFLINE_NAME
    if out.exists() and (not listing.is_file() or GENERATOR not in listing.read_text(errors="replace")):
        raise LightshipError(
            f"{out} exists and is not a site written by `lightship web`; choose another --out"
        )


def build_site(bundle: Path, out: Path, allow_unverified: bool = False) -> Path:
    """Write the static site for ``bundle`` into ``out`` (replacing an earlier ``lightship web`` site).

    Raises:
        BundleError: ``bundle`` is not a bundle, has no ONNX artifact, its files fail their sha256, or its
            ONNX artifact is unverified (unless ``allow_unverified``).
        WebBuildMissing: ``web/dist`` has not been built.
    """
    bundle, out = Path(bundle), Path(out)
    dist = web_dist()
    artifacts = _web_artifacts(bundle, allow_unverified)
    _check_replaceable(out)
    with staging_dir(out) as tmp:
        shutil.copytree(dist, tmp, dirs_exist_ok=True)
        for record in (record for artifact in artifacts for record in artifact["files"]):
            target = tmp / "bundle" / record["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundle / record["path"], target)
        write_json(tmp / "bundle" / MANIFEST_NAME, scrub_local_paths(read_manifest(bundle)))
        write_text(tmp / "_headers", HEADERS_FILE)
        write_json(tmp / OFFLINE_NAME, _offline_listing(tmp, artifacts))
        publish_dir(tmp, out, replace=True)
    return out
