"""Writing a self-contained static site: the built web app, the bundle's manifest and ONNX model, and
``offline.json`` (the file list the service worker caches). Written to a temp folder, then renamed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

from ..errors import BundleError, LightshipError
from ..runtime.manifest import MANIFEST_NAME, check_files, read_manifest

#: Where the built app is looked for when LIGHTSHIP_WEB_DIST is not set: web/dist of the repo checkout.
REPO_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
REQUIRED = ("index.html", "app.js", "sw.js", "ort/ort.min.mjs")
#: ONNX formats the page can run, preferred first (the same choice as web/src/bundle.js).
WEB_FORMATS = ("onnx", "onnx-int8")
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


def _web_artifact(bundle: Path) -> dict:
    manifest = read_manifest(bundle)
    for fmt in WEB_FORMATS:
        for artifact in manifest["artifacts"]:
            if artifact["format"] == fmt:
                check_files(bundle, artifact["files"])
                return artifact
    raise BundleError(f"{bundle} has no ONNX artifact for the browser; export it with --formats onnx")


def _offline_listing(site: Path) -> dict:
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256((site / name).read_bytes()).digest())
    cached = ["./", *[name for name in files if not name.endswith(".map") and name != "_headers"]]
    return {"generator": GENERATOR, "version": digest.hexdigest()[:16], "files": cached}


def _replace(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    listing = out / OFFLINE_NAME
    if not listing.is_file() or GENERATOR not in listing.read_text(errors="replace"):
        raise LightshipError(f"{out} exists and is not a site written by `lightship web`; choose another --out")
    trash = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(trash)
    tmp.rename(out)
    shutil.rmtree(trash)


def build_site(bundle: Path, out: Path) -> Path:
    """Write the static site for ``bundle`` into ``out`` (replacing an earlier ``lightship web`` site).

    Raises:
        BundleError: ``bundle`` is not a bundle, has no ONNX artifact, or its files fail their sha256.
        WebBuildMissing: ``web/dist`` has not been built.
    """
    bundle, out = Path(bundle), Path(out)
    dist = web_dist()
    artifact = _web_artifact(bundle)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        shutil.copytree(dist, tmp)
        for record in artifact["files"]:
            target = tmp / "bundle" / record["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundle / record["path"], target)
        shutil.copyfile(bundle / MANIFEST_NAME, tmp / "bundle" / MANIFEST_NAME)
        (tmp / "_headers").write_text(HEADERS_FILE)
        (tmp / OFFLINE_NAME).write_text(json.dumps(_offline_listing(tmp), indent=2) + "\n")
        _replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out
