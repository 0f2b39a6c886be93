"""web/src/bundle-core.js, the bundle reader the web app and the Node runner share, run in Node: it reads
schema 1 and 2, follows the manifest's preference among the artifacts ONNX Runtime runs, checks sha256 and
agrees with Python on the limits and on top-k."""

from __future__ import annotations

import hashlib
import json
import subprocess

import numpy as np

from lightship.bundle.manifest import SCHEMA1_PREFERENCE, image_limits
from lightship.runtime.predictor import top_classes

from .support import REPO

CORE = (REPO / "web" / "src" / "bundle-core.js").as_uri()


def run_core(node: str, body: str) -> object:
    """Run ``body`` (an async function body with ``core`` in scope) in Node; its JSON return value."""
    script = (
        f"const core = await import({json.dumps(CORE)}); const out = await (async () => {{ {body} }})();"
        "console.log(JSON.stringify(out));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def artifact(fmt: str, runtime: str) -> dict:
    return {"format": fmt, "runtime": runtime, "precision": "fp32", "file": f"{fmt}.bin", "files": []}


def manifest(version: int, formats: list[tuple[str, str]], preference: list[str] | None = None) -> str:
    data = {"schema_version": version, "artifacts": [artifact(f, r) for f, r in formats]}
    if preference is not None:
        data.update(runtime_preference=preference, limits={"max_pixels": 7, "image_extensions": [".png"]})
    return json.dumps(data)


def choose(node: str, text: str) -> dict:
    return run_core(
        node,
        f"""
        try {{
          const {{ artifact, limits, notice }} = core.parseManifest({json.dumps(text)}, 'manifest.json');
          return {{ format: artifact.format, limits, notice }};
        }} catch (error) {{ return {{ error: error.message, bundleError: error instanceof core.BundleError }}; }}""",
    )


def test_the_manifests_preference_decides_among_what_onnx_runtime_runs(node):
    formats = [("onnx", "onnxruntime"), ("torchscript", "torchscript"), ("onnx-int8", "onnxruntime")]
    chosen = choose(node, manifest(2, formats, ["torchscript", "onnx-int8", "onnx"]))
    assert chosen == {
        "format": "onnx-int8",
        "limits": {"maxPixels": 7, "imageExtensions": [".png"]},
        "notice": None,
    }


def test_a_schema_1_manifest_uses_the_built_in_order_and_limits_and_says_so(node):
    chosen = choose(node, manifest(1, [("onnx-int8", "onnxruntime"), ("onnx", "onnxruntime")]))
    python = image_limits()
    assert chosen["format"] == "onnx" == next(f for f in SCHEMA1_PREFERENCE if f.startswith("onnx"))
    assert chosen["limits"] == {
        "maxPixels": python["max_pixels"],
        "imageExtensions": python["image_extensions"],
    }
    assert "schema 1" in chosen["notice"] and "runtime_preference" in chosen["notice"]


def test_unknown_versions_and_bundles_without_onnx_are_refused(node):
    assert choose(node, manifest(3, [("onnx", "onnxruntime")], ["onnx"]))["bundleError"] is True
    refused = choose(node, manifest(2, [("torchscript", "torchscript")], ["torchscript"]))
    assert refused["bundleError"] is True and "--formats onnx" in refused["error"]


def test_sha256_check_and_top_k_agree_with_python(node):
    data = bytes(range(256)) * 40
    record = {"path": "m.onnx", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    found = run_core(
        node,
        f"""
        const bytes = new Uint8Array({json.dumps(list(data))});
        const artifact = {{ file: 'm.onnx', files: [{json.dumps(record)}] }};
        await core.checkedModel(bytes, artifact);
        bytes[7] ^= 1;
        const tampered = await core.checkedModel(bytes, artifact).then(() => 'accepted', (e) => e.message);
        const probs = Float32Array.from([0.1, 0.3, 0.3, 0.2, 0.1]);
        return {{ tampered, top: core.topK(probs, ['a', 'b', 'c', 'd', 'e'], 4), capped: core.topK(probs, ['a'], 9) }};""",
    )
    assert "does not match its sha256" in found["tampered"]
    probs = np.array([0.1, 0.3, 0.3, 0.2, 0.1], dtype=np.float32)
    expected = top_classes(probs, ["a", "b", "c", "d", "e"], 4)
    assert [(t["label"], t["score"]) for t in found["top"]] == expected
    assert len(found["capped"]) == 1
