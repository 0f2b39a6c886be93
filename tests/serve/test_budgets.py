"""Budgets before work: per-image pixels, aspect ratio, per-request total and the artifact's own input
bound are refused from the header with a 4xx that names the limit and the value; file names of any
script; /v1/model publishes no local path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from lightship.fuzz import pixel_bombs
from lightship.serve import ServeSettings

from .conftest import ServerThread

BOMBS = dict(pixel_bombs())
SECRET = "/home/alice/private-photos"


def test_bombs_and_strips_are_refused_naming_limit_and_value(serve) -> None:
    url = serve(max_wait_ms=5.0)
    strip = httpx.post(
        f"{url}/v1/predict", files={"file": ("strip.png", BOMBS["strip-1x63999999.png"], "image/png")}
    )
    assert strip.status_code == 413, strip.text
    error = strip.json()["error"]
    assert (error["code"], error["limit"], error["value"], error["allowed"]) == (
        "image_aspect_ratio_too_large",
        "max_aspect",
        63_999_999,
        50,
    )
    assert "strip.png" in error["message"] and "--max_aspect" in error["message"]
    bomb = httpx.post(
        f"{url}/v1/predict", content=BOMBS["bomb-400mp.png"], headers={"Content-Type": "image/png"}
    )
    assert bomb.status_code == 413 and bomb.json()["error"]["limit"] == "max_pixels"
    assert (bomb.json()["error"]["value"], bomb.json()["error"]["allowed"]) == (400_000_000, 100_000_000)


def test_per_image_and_per_request_pixels(serve, images) -> None:
    # small: 32x32 = 1,024 pixels; other: 48x40 = 1,920.
    url = serve(max_image_mp=0.0015, max_request_mp=0.003, max_wait_ms=5.0)
    alone = httpx.post(f"{url}/v1/predict", files={"file": images["other"]})
    assert alone.status_code == 413 and alone.json()["error"]["limit"] == "max_pixels"
    assert alone.json()["error"]["value"] == 1920 and alone.json()["error"]["allowed"] == 1500
    two = [("files", (f"{i}.jpg", images["small"], "image/jpeg")) for i in range(2)]
    assert httpx.post(f"{url}/v1/predict/batch", files=two).status_code == 200
    three = [("files", (f"{i}.jpg", images["small"], "image/jpeg")) for i in range(3)]
    refused = httpx.post(f"{url}/v1/predict/batch", files=three)
    assert refused.status_code == 413, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["value"], error["allowed"]) == ("request_too_many_pixels", 3072, 3000)


@pytest.fixture(scope="module")
def bounded_bundle(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test bundle with an input bound on its artifact and a local path in its manifest."""
    copy = tmp_path_factory.mktemp("bounded") / "bundle"
    shutil.copytree(bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["artifacts"][0]["max_input"] = {"height": 40, "width": 40}
    manifest["verification"]["data"] = f"imagefolder:{SECRET} test split"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def test_artifact_bound_caps_the_settings_and_no_path_leaves(bounded_bundle: Path, images) -> None:
    with ServerThread(bounded_bundle, ServeSettings(max_wait_ms=5.0)) as server:
        model = httpx.get(f"{server.url}/v1/model")
        assert SECRET not in model.text and "alice" not in model.text
        limits = model.json()["serving"]["limits"]
        assert (limits["max_height"], limits["max_width"], limits["max_pixels"]) == (40, 40, 1600)
        assert httpx.post(f"{server.url}/v1/predict", files={"file": images["small"]}).status_code == 200
        wide = httpx.post(
            f"{server.url}/v1/predict", files={"file": ("wide.jpg", images["other"], "image/jpeg")}
        )
        assert wide.status_code == 413
        error = wide.json()["error"]
        assert (error["code"], error["limit"], error["value"], error["allowed"]) == (
            "image_too_many_pixels",
            "max_pixels",
            1920,
            1600,
        )


@pytest.mark.parametrize(
    "name", ["猫.png", "Ünïcødé file.jpg", "שלום.jpg", "a\u202egnp.exe", "../../etc/passwd"]
)
def test_any_file_name_is_answered_and_echoed_escaped(serve, images, name: str) -> None:
    url = serve(max_wait_ms=5.0)
    single = httpx.post(f"{url}/v1/predict", files={"file": (name, images["small"], "image/jpeg")})
    assert single.status_code == 200, single.text
    batch = httpx.post(
        f"{url}/v1/predict/batch",
        files=[("files", (name, images["small"], "image/jpeg")), ("files", (name, b"junk", "image/jpeg"))],
    )
    assert batch.status_code == 200, batch.text
    entries = batch.json()["predictions"]
    expected = name.replace("\u202e", "\\u202e")
    assert entries[0]["filename"] == entries[1]["filename"] == expected
    assert entries[1]["error"]["code"] == "not_an_image" and expected in entries[1]["error"]["message"]


def test_a_request_holds_one_decoded_photo_at_a_time(serve) -> None:
    # Three same-size photos of one request would share a model call if they were decoded together;
    # held one at a time, each is its own call (small images, decoded inline, still share calls).
    from .conftest import jpeg

    url = serve(max_wait_ms=50.0)
    photos = [("files", (f"p{i}.jpg", jpeg(200, 150, seed=i), "image/jpeg")) for i in range(3)]
    smalls = [("files", (f"s{i}.jpg", jpeg(seed=i), "image/jpeg")) for i in range(3)]
    entries = httpx.post(f"{url}/v1/predict/batch", files=photos + smalls).json()["predictions"]
    assert [e["batch_size"] for e in entries[:3]] == [1, 1, 1]
    assert max(e["batch_size"] for e in entries[3:]) > 1
