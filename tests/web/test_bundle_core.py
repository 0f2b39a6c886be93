"""web/src/bundle-core.js, the bundle reader the web app and the Node runner share, run in Node: it reads
schemas 1 to 3, refuses file paths that leave the bundle and unverified artifacts (unless allowed), follows
the manifest's preference among the verified artifacts ONNX Runtime runs, checks sha256 and agrees with
Python on the limits, on what is unverified and on top-k."""

from __future__ import annotations

import hashlib
import json
import subprocess

import numpy as np
import pytest

from lightship.bundle.manifest import SCHEMA1_PREFERENCE, image_limits
from lightship.bundle.verification import unverified_reason
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


def artifact(fmt: str, runtime: str, passed: bool | None = True) -> dict:
    record = {"path": f"{fmt}.bin", "bytes": 1, "sha256": "0" * 64}
    check = {
        "passed": passed,
        "failures": [] if passed else ["fp32.max_abs_prob_diff: 0.002 > 0.0001 (by 0.0019)"],
    }
    return {
        "format": fmt,
        "runtime": runtime,
        "precision": "fp32",
        "file": record["path"],
        "files": [record],
        "verification": check,
    }


def manifest(
    version: int,
    formats: list[tuple[str, str]],
    preference: list[str] | None = None,
    passed: dict[str, bool | None] | None = None,
) -> dict:
    data = {
        "schema_version": version,
        "artifacts": [artifact(f, r, (passed or {}).get(f, True)) for f, r in formats],
        "reference": {"files": [{"path": "reference.pt", "bytes": 1, "sha256": "0" * 64}]},
        "samples": {"files": []},
        "verification": {"passed": True, "gates": {"kinds": {}}},
    }
    if preference is not None:
        data.update(runtime_preference=preference, limits={"max_pixels": 7, "image_extensions": [".png"]})
    return data


def parsed(node: str, data: dict, body: str) -> dict:
    """Run ``body`` (JavaScript returning a result) with ``text`` bound to ``data`` as manifest.json text; a
    thrown error becomes {error, bundleError}."""
    return run_core(
        node,
        f"""
        try {{
          const text = {json.dumps(json.dumps(data))};
          {body}
        }} catch (error) {{ return {{ error: error.message, bundleError: error instanceof core.BundleError }}; }}""",
    )


def choose(node: str, data: dict, allow_unverified: bool = False) -> dict:
    options = json.dumps({"allowUnverified": allow_unverified, "root": "B"})
    return parsed(
        node,
        data,
        f"""const parsed = core.parseManifest(text, 'manifest.json', {options});
          return {{ format: parsed.artifact.format, limits: parsed.limits, notice: parsed.notice,
                    unverified: parsed.unverified }};""",
    )


def test_the_manifests_preference_decides_among_what_onnx_runtime_runs(node):
    formats = [("onnx", "onnxruntime"), ("torchscript", "torchscript"), ("onnx-int8", "onnxruntime")]
    chosen = choose(node, manifest(3, formats, ["torchscript", "onnx-int8", "onnx"]))
    assert chosen == {
        "format": "onnx-int8",
        "limits": {"maxPixels": 7, "imageExtensions": [".png"]},
        "notice": None,
        "unverified": None,
    }


def test_a_schema_1_manifest_uses_the_built_in_order_and_limits_and_says_so(node):
    chosen = choose(node, manifest(1, [("onnx-int8", "onnxruntime"), ("onnx", "onnxruntime")]), True)
    python = image_limits()
    assert chosen["format"] == "onnx" == next(f for f in SCHEMA1_PREFERENCE if f.startswith("onnx"))
    assert chosen["limits"] == {
        "maxPixels": python["max_pixels"],
        "imageExtensions": python["image_extensions"],
    }
    assert "schema 1" in chosen["notice"] and "runtime_preference" in chosen["notice"]


def test_unknown_versions_and_bundles_without_onnx_are_refused(node):
    assert choose(node, manifest(99, [("onnx", "onnxruntime")], ["onnx"]))["bundleError"] is True
    refused = choose(node, manifest(3, [("torchscript", "torchscript")], ["torchscript"]))
    assert refused["bundleError"] is True and "--formats onnx" in refused["error"]


def _escape(path: str, in_files: bool = True):
    def change(data: dict) -> dict:
        entry = data["artifacts"][0]
        entry["file"] = path
        if in_files:
            entry["files"][0]["path"] = path
        return data

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_escape("/etc/model.onnx"), "is absolute"),
        (_escape("../model.onnx"), "'..' part"),
        (_escape("onnx/../../model.onnx"), "'..' part"),
        (_escape("C:/model.onnx"), "is absolute"),
        (_escape("other.onnx", in_files=False), "is not among its hashed files"),
    ],
)
def test_paths_that_leave_the_bundle_or_are_not_hashed_are_refused(node, change, message):
    data = change(manifest(3, [("onnx", "onnxruntime")], ["onnx"]))
    refused = choose(node, data)
    assert refused["bundleError"] is True and message in refused["error"], refused
    reference = manifest(3, [("onnx", "onnxruntime")], ["onnx"])
    reference["reference"]["files"][0]["path"] = "../reference.pt"
    assert "reference: file path" in choose(node, reference)["error"]


def test_unverified_artifacts_are_refused_naming_the_gate_unless_allowed_as_python_does(node):
    formats = [("onnx", "onnxruntime"), ("onnx-int8", "onnxruntime")]
    data = manifest(3, formats, ["onnx", "onnx-int8"], passed={"onnx": False})
    assert choose(node, data)["format"] == "onnx-int8", "a verified artifact further down is taken"
    data = manifest(3, formats, ["onnx", "onnx-int8"], passed={"onnx": False, "onnx-int8": None})
    refused = choose(node, data)
    python = [unverified_reason(data, a, "B") for a in data["artifacts"]]
    assert refused["bundleError"] is True and all(reason in refused["error"] for reason in python)
    assert "fp32.max_abs_prob_diff: 0.002 > 0.0001 (by 0.0019)" in refused["error"]
    allowed = choose(node, data, allow_unverified=True)
    assert allowed["format"] == "onnx" and allowed["unverified"] == python[0]
    older = manifest(2, formats, ["onnx", "onnx-int8"])
    del older["verification"]["gates"]
    assert "lightship verify B --record true" in choose(node, older)["error"]


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


def with_web_litert(data: dict, paths=("model.web.tflite", "model.web.pixels.onnx"), passed=True) -> dict:
    """``data`` plus a web-litert artifact (the page's LiteRT.js one) whose files are ``paths``."""
    entry = artifact("web-litert", "litert-web", passed)
    entry["file"] = paths[0]
    entry["files"] = [{"path": path, "bytes": 1, "sha256": "0" * 64} for path in paths]
    data["artifacts"].append(entry)
    return data


def choose_litert(node: str, data: dict, allow_unverified: bool = False) -> dict:
    options = json.dumps({"allowUnverified": allow_unverified, "root": "B"})
    return parsed(
        node,
        data,
        f"""const {{ manifest }} = core.parseManifest(text, 'manifest.json', {{}});
          const chosen = core.chooseWebLitert(manifest, {options});
          return {{ format: chosen.artifact.format, model: chosen.model.path, pixels: chosen.pixels.path,
                    unverified: chosen.unverified }};""",
    )


def test_web_litert_is_the_pages_alone_the_node_runner_keeps_onnx(node):
    """web-litert (runtime litert-web) first in the manifest's preference: the ONNX choice (the Node runner's and
    the page's wasm/WebGPU backends') still takes ONNX Runtime's artifact; the page's litert backend takes the
    .tflite and its pixels graph."""
    data = with_web_litert(manifest(3, [("onnx", "onnxruntime")], ["web-litert", "onnx"]))
    assert choose(node, data)["format"] == "onnx"
    assert choose_litert(node, data) == {
        "format": "web-litert",
        "model": "model.web.tflite",
        "pixels": "model.web.pixels.onnx",
        "unverified": None,
    }
    missing = choose_litert(node, manifest(3, [("onnx", "onnxruntime")], ["onnx"]))
    assert missing["bundleError"] is True and "--formats web-litert" in missing["error"], missing


@pytest.mark.parametrize(
    "paths", [("model.web.tflite",), ("model.web.tflite", "a.onnx", "b.onnx"), ("model.web.tflite", "x.bin")]
)
def test_a_web_litert_artifact_without_exactly_its_two_files_is_refused(node, paths):
    data = with_web_litert(manifest(3, [("onnx", "onnxruntime")], ["onnx"]), paths)
    refused = choose_litert(node, data)
    assert refused["bundleError"] is True and "one .onnx pixels graph" in refused["error"], refused


def test_web_litert_paths_unverified_and_the_override_follow_the_onnx_rules(node):
    data = with_web_litert(manifest(3, [("onnx", "onnxruntime")], ["onnx"]), passed=False)
    python = unverified_reason(data, data["artifacts"][-1], "B")
    refused = choose_litert(node, data)
    assert refused["bundleError"] is True and python in refused["error"], refused
    assert "fp32.max_abs_prob_diff" in refused["error"]
    assert choose_litert(node, data, allow_unverified=True)["unverified"] == python
    escaping = with_web_litert(
        manifest(3, [("onnx", "onnxruntime")], ["onnx"]), ("model.web.tflite", "../model.web.pixels.onnx")
    )
    refused = choose(node, escaping)  # parseManifest checks every artifact's paths, web-litert's too
    assert refused["bundleError"] is True and "artifact web-litert: file path" in refused["error"], refused
