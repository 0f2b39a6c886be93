"""Memory goals and the hostile corpus against `lightship serve` as users run it: a subprocess with the
default settings on a real socket, its peak resident memory (VmHWM) read from /proc.

Default settings but for the request deadline (four 50 MP photos take ~10 s on the 2-core VM).
Goals: a 400-megapixel declared image is refused before any decoding, with no growth; the hostile
corpus gets only 200 or 4xx and stays within the goals; one 50-megapixel photo <= 1 GB (and the
answer equals `lightship predict`'s for the same bytes); four of them in one batch <= 1.5 GB.
The tests run in this order on one server, as VmHWM only ever grows.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from lightship.fuzz import hostile_images, pixel_bombs
from lightship.runtime import load

GB = 2**30  # the goals are in binary units, like VmHWM itself (kB = KiB)
PHOTO = (8660, 5770)  # 49.97 megapixels: a 50 MP phone photo (four stay within the 200 MP request total)


def peak_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) * 1024


@pytest.fixture(scope="module")
def server(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    from .conftest import free_port

    port = free_port()
    log = tmp_path_factory.mktemp("memory") / "server.log"
    code = (
        "import sys; from pathlib import Path; from lightship.serve import serve_command; "
        f"sys.exit(serve_command(Path({str(bundle)!r}), port={port}, timeout_s=120))"
    )  # 4 x 50 MP: ~10 s here
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "LIGHTSHIP_TOKEN": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A 50-megapixel JPEG: smooth gradients and grain, about 2 MB (four fit the 10 MB upload limit)."""
    width, height = PHOTO
    ramp = np.add.outer(
        np.linspace(0, 180, height, dtype=np.float32), np.linspace(0, 60, width, dtype=np.float32)
    )
    grain = np.random.default_rng(0).integers(0, 6, (height, width), dtype=np.uint8)
    gray = ramp.astype(np.uint8) + grain
    buffer = io.BytesIO()
    Image.fromarray(np.stack([gray, gray[::-1], 255 - gray], axis=2)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_declared_400mp_is_refused_before_decoding(server) -> None:
    url, pid = server
    bombs = dict(pixel_bombs())
    httpx.post(f"{url}/v1/predict", files={"file": ("warm.png", bombs["bomb-png.png"], "image/png")})
    before = peak_bytes(pid)
    for _ in range(5):
        refused = httpx.post(
            f"{url}/v1/predict", files={"file": ("bomb.png", bombs["bomb-400mp.png"], "image/png")}
        )
        assert refused.status_code == 413 and refused.json()["error"]["value"] == 400_000_000
    assert peak_bytes(pid) - before < 2_000_000, (before, peak_bytes(pid))


def test_hostile_corpus_gets_200_or_4xx_within_the_goals(server) -> None:
    url, pid = server
    corpus = hostile_images()
    with httpx.Client(base_url=url, timeout=120) as client:
        for name, data in corpus:
            response = client.post("/v1/predict", files={"file": (name, data, "application/octet-stream")})
            assert response.status_code == 200 or 400 <= response.status_code < 500, (name, response.text)
            assert "error" in response.json() or response.json()["label"]
        for start in range(0, len(corpus), 16):
            chunk = corpus[start : start + 16]
            response = client.post(
                "/v1/predict/batch", files=[("files", (n, d, "image/png")) for n, d in chunk]
            )
            if response.status_code == 413:  # the chunk's declared pixels together exceed the request total
                assert response.json()["error"]["code"] == "request_too_many_pixels"
                continue
            assert response.status_code == 200, response.text
            entries = response.json()["predictions"]
            assert [e["filename"] for e in entries] == [n for n, _ in chunk]
            assert all(("label" in e) != ("error" in e) for e in entries)
        assert 'status="5' not in client.get("/metrics").text
    print(f"hostile corpus: server VmHWM {peak_bytes(pid) / 2**20:.0f} MiB")
    assert peak_bytes(pid) <= GB, peak_bytes(pid)


def test_one_50mp_photo_within_1gb_and_same_answer_as_predict(server, photo: bytes, bundle: Path) -> None:
    url, pid = server
    response = httpx.post(
        f"{url}/v1/predict", params={"top_k": 10}, files={"file": ("photo.jpg", photo)}, timeout=120
    )
    assert response.status_code == 200, response.text
    print(f"50 MP photo: server VmHWM {peak_bytes(pid) / 2**20:.0f} MiB")
    assert peak_bytes(pid) <= GB, peak_bytes(pid)
    expected = load(bundle, runtime="onnxruntime", threads=1).predict(photo, top_k=10)
    got = {item["label"]: item["probability"] for item in response.json()["top_k"]}
    np.testing.assert_allclose(
        [got[label] for label, _ in expected.top_k], [p for _, p in expected.top_k], atol=1e-6
    )


def test_four_50mp_photos_in_one_batch_within_1_5gb(server, photo: bytes) -> None:
    url, pid = server
    files = [("files", (f"photo{i}.jpg", photo, "image/jpeg")) for i in range(4)]
    response = httpx.post(f"{url}/v1/predict/batch", files=files, timeout=120)
    assert response.status_code == 200, response.text
    assert all("label" in entry for entry in response.json()["predictions"])
    print(f"batch of four 50 MP photos: server VmHWM {peak_bytes(pid) / 2**20:.0f} MiB")
    assert peak_bytes(pid) <= 1.5 * GB, peak_bytes(pid)
