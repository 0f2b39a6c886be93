"""Back-pressure (503 + Retry-After), the per-request deadline (504) and graceful shutdown (SIGTERM
while a slow request is in flight: it still completes with 200)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest


def _send_in_background(url: str, data: bytes, results: list[httpx.Response]) -> threading.Thread:
    def send() -> None:
        results.append(httpx.post(f"{url}/v1/predict", files={"file": data}, timeout=60))

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_full_queue_answers_503_with_retry_after(serve, images) -> None:
    url = serve(queue_size=2, max_batch=1, timeout_s=60.0)
    slow: list[httpx.Response] = []

    thread = _send_in_background(url, images["big"], slow)  # holds the model thread for a while
    responses: list[httpx.Response] = []
    with httpx.Client(base_url=url, timeout=60) as client:

        def fire() -> None:
            responses.append(client.post("/v1/predict", files={"file": images["small"]}))

        fired: list[threading.Thread] = []
        while thread.is_alive() and not any(r.status_code == 503 for r in responses):
            fired.append(threading.Thread(target=fire))  # a steady stream, not waiting for answers
            fired[-1].start()
            time.sleep(0.01)
        for t in fired:
            t.join()
    thread.join()
    busy = [r for r in responses if r.status_code == 503]
    assert busy, [r.status_code for r in responses]
    assert busy[0].headers["retry-after"] == "1"
    assert busy[0].json()["error"]["code"] == "overloaded"
    assert {r.status_code for r in responses} <= {200, 503}
    assert slow[0].status_code in (200, 503)  # it may meet a queue full of small images, too


def test_deadline_answers_504(serve, images) -> None:
    # Decoding a 16-megapixel JPEG alone takes far longer than 20 ms on any machine.
    url = serve(timeout_s=0.02)
    response = httpx.post(f"{url}/v1/predict", files={"file": images["big"]}, timeout=60)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_sigterm_drains_the_request_in_flight(bundle: Path, images, port: int) -> None:
    code = (
        "import sys; from pathlib import Path; from lightship.serve import serve_command; "
        f"sys.exit(serve_command(Path({str(bundle)!r}), port={port}, threads=1))"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "LIGHTSHIP_TOKEN": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()
            time.sleep(0.1)
        slow: list[httpx.Response] = []
        thread = _send_in_background(url, images["big"], slow)
        time.sleep(0.4)  # the request is being decoded or run now
        server.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        assert slow and slow[0].status_code == 200, slow
        # uvicorn re-raises the signal after its graceful shutdown, as a process killed by it should exit.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in server.stdout.read().decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _metric(url: str, name: str) -> float:
    lines = httpx.get(f"{url}/metrics").text.splitlines()
    return sum(float(line.split(" ")[1]) for line in lines if line.split("{")[0].split(" ")[0] == name)


def _raw_predict(url: str, data: bytes) -> socket.socket:
    """Send a predict request on a raw socket and return it unread (so the test can hang up)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        f"POST /v1/predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    return sock


@pytest.fixture(scope="module")
def photo_200() -> bytes:
    """A 200x200 JPEG: above the inline-decode size, so it waits for the pixel budget like a photo."""
    from .conftest import jpeg

    return jpeg(200, 200, seed=3)


def _holding_budget(url: str, pixels: int) -> None:
    """Wait until the server's pixel budget holds ``pixels`` (the big image is being worked on)."""
    deadline = time.monotonic() + 30
    while _metric(url, "lightship_decoded_pixels") != pixels:
        assert time.monotonic() < deadline, "the big image never took the budget"
        time.sleep(0.005)


HOLDER = (8000, 6000)  # decoding it alone takes about a second: well over the 0.35 s deadline below


@pytest.fixture(scope="module")
def holder() -> bytes:
    from .conftest import jpeg

    return jpeg(*HOLDER, smooth=True)


def test_work_of_a_timed_out_request_is_dropped(serve, holder, photo_200) -> None:
    # One request: the 48 MP photo decodes for longer than the deadline while the 200x200 one waits its
    # turn (a request's photos go one at a time). At the deadline both are dropped: nothing is scored.
    url = serve(timeout_s=0.35)
    files = [
        ("files", ("holder.jpg", holder, "image/jpeg")),
        ("files", ("photo.jpg", photo_200, "image/jpeg")),
    ]
    response = httpx.post(f"{url}/v1/predict/batch", files=files, timeout=60)
    assert response.status_code == 504 and response.json()["error"]["code"] == "timeout"
    deadline = time.monotonic() + 60
    # The holder's decode runs to its end, unused.
    while _metric(url, "lightship_decoded_pixels") != 0:
        assert time.monotonic() < deadline, "the holder's pixels were never released"
        time.sleep(0.05)
    # The holder is dropped, never scored. The small photo is dropped too when the deadline finds it waiting;
    # on a loaded machine the timings can differ (it may not have started, or have been scored first).
    assert _metric(url, "lightship_images_dropped_total") >= 1
    assert _metric(url, "lightship_batch_size_sum") <= 1


def test_work_of_a_client_that_hung_up_is_dropped(serve, holder, photo_200) -> None:
    url = serve(timeout_s=30.0, decoded_budget_mp=0.000002)
    slow: list[httpx.Response] = []
    thread = _send_in_background(url, holder, slow)
    _holding_budget(url, HOLDER[0] * HOLDER[1])
    _raw_predict(url, photo_200).close()  # waits for the budget behind the big image, then is gone
    thread.join()
    assert slow[0].status_code == 200
    assert _metric(url, "lightship_images_dropped_total") == 1
    assert _metric(url, "lightship_batch_size_sum") == 1  # the big image only
    assert 'status="499"' in httpx.get(f"{url}/metrics").text
