"""Writing a self-contained static site: the built web app, the bundle's manifest and ONNX model, and
``offline.json`` (the file list the service worker caches). Built in a temp folder, then renamed into place."""

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

#: Where the built app is looked for when LIGHTSHIP_WEB_DIST is not set: web/dist of the repo checkout.
REPO_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
REQUIRED = ("index.html", "app.js", "sw.js", "ort/ort.min.mjs")
#: The runtime whose artifacts the page can run (onnxruntime-web); which one it takes is the bundle's
#: preference, the same choice web/src/bundle-core.js makes.
WEB_RUNTIME = "onnxruntime"
OFFLINE_NAME = "offline.json"
GENERATOR = "lightship web"
#: Netlify / Cloudflare Pages header rules: cross-origin isolation lets onnxruntime-web use threads.
HEADERS_FILE = "/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n"


class WebBuildMissing(LightshipError):
    """The web app has not been built with npm."""


def web_dist() -> Path:
    """The built web app folder; WebBuildMissing saying how to build it when absent."""
    dist = Path(os.environ.get("LIGHTSHIP_WEB_DIST", REPO_DIST))
    missing = [name for name in REQUIRED if not (dist / name).is_file()]
    if missing:
        raise WebBuildMissing(
            f"the web app is not built ({dist} lacks {', '.join(missing)}). In the lightship repository run "
            "`npm ci --prefix web && npm run build --prefix web` (Node 20+), or set LIGHTSHIP_WEB_DIST to a "
            "built web/dist folder"
        )
    return dist


def _web_artifact(bundle: Path, allow_unverified: bool) -> dict:
    """The artifact the page will run (the bundle's preference among ONNX ones, as bundle-core.js picks it),
    after checking every file of the manifest: a bundle whose artifact or proof was altered is refused, and
    so is an unverified artifact unless ``allow_unverified``."""
    manifest = read_manifest(bundle)
    candidates = [a for a in preferred_artifacts(manifest) if a["runtime"] == WEB_RUNTIME]
    if not candidates:
        raise BundleError(f"{bundle} has no ONNX artifact for the browser; export it with --formats onnx")
    check_files(bundle, manifest_records(manifest))
    reasons = [unverified_reason(manifest, a, str(bundle)) for a in candidates]
    for artifact, reason in zip(candidates, reasons, strict=True):
        if reason is None:
            return artifact
    if allow_unverified:
        return candidates[0]
    raise BundleError(
        "refusing to publish an unverified artifact: "
        + " | ".join(r for r in reasons if r)
        + ". Pass --allow-unverified to build the site anyway (the page then also needs ?allow-unverified=1)"
    )


def _offline_listing(site: Path) -> dict:
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256((site / name).read_bytes()).digest())
    cached = ["./", *[name for name in files if not name.endswith(".map") and name != "_headers"]]
    return {"generator": GENERATOR, "version": digest.hexdigest()[:16], "files": cached}


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
    artifact = _web_artifact(bundle, allow_unverified)
    _check_replaceable(out)
    with staging_dir(out) as tmp:
        shutil.copytree(dist, tmp, dirs_exist_ok=True)
        for record in artifact["files"]:
            target = tmp / "bundle" / record["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundle / record["path"], target)
        shutil.copyfile(bundle / MANIFEST_NAME, tmp / "bundle" / MANIFEST_NAME)
        write_text(tmp / "_headers", HEADERS_FILE)
        write_json(tmp / OFFLINE_NAME, _offline_listing(tmp))
        publish_dir(tmp, out, replace=True)
    return out
