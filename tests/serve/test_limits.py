"""Back-pressure (503 + Retry-After), the per-request deadline (504) and graceful shutdown (SIGTERM
while a slow request is in flight: it still completes with 200)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def _send_in_background(url: str, data: bytes, results: list[httpx.Response]) -> threading.Thread:
    def send() -> None:
        results.append(httpx.post(f"{url}/v1/predict", files={"file": data}, timeout=60))

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_full_queue_answers_503_with_retry_after(serve, images) -> None:
    url = serve(queue_size=2, max_batch=1, timeout_s=60.0)
    slow: list[httpx.Response] = []
    thread = _send_in_background(url, images["big"], slow)  # holds the model thread for ~1 s
    responses: list[httpx.Response] = []
    with httpx.Client(base_url=url, timeout=60) as client:

        def fire() -> None:
            responses.append(client.post("/v1/predict", files={"file": images["small"]}))

        while thread.is_alive() and not any(r.status_code == 503 for r in responses):
            burst = [threading.Thread(target=fire) for _ in range(4)]
            for t in burst:
                t.start()
            for t in burst:
                t.join()
    thread.join()
    busy = [r for r in responses if r.status_code == 503]
    assert busy, [r.status_code for r in responses]
    assert busy[0].headers["retry-after"] == "1"
    assert busy[0].json()["error"]["code"] == "overloaded"
    assert {r.status_code for r in responses} <= {200, 503}
    assert slow[0].status_code == 200


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
