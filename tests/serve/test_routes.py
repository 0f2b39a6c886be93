"""Every route against a real server, and predictions equal to the Predictor's on the same bytes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import numpy as np

from lightship.runtime import load

FAST = {"max_wait_ms": 50.0, "max_upload_mb": 1.0}


def _probs(body: dict, labels: list[str]) -> np.ndarray:
    scores = {item["label"]: item["probability"] for item in body["top_k"]}
    return np.array([scores[label] for label in labels])


def test_info_routes(serve, bundle: Path) -> None:
    url = serve(**FAST)
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
    model = httpx.get(f"{url}/v1/model").json()
    assert model["model"]["name"] == "airbench"
    assert model["labels"] == [f"class{i}" for i in range(10)]
    assert model["input"]["layout"] == "NHWC"
    assert model["serving"]["format"] == "onnx"
    assert all("file" not in a and "files" not in a and a["sha256"] for a in model["artifacts"])
    assert str(bundle) not in httpx.get(f"{url}/v1/model").text
    assert "/docs" in httpx.get(f"{url}/").text  # no site: a pointer to the docs
    assert httpx.get(f"{url}/docs").status_code == 200
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert {"/v1/predict", "/v1/predict/batch", "/v1/model", "/healthz", "/readyz"} <= set(paths)
    metrics = httpx.get(f"{url}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'lightship_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text
    assert "lightship_queue_depth" in metrics.text
    missing = httpx.get(f"{url}/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_predict_matches_predictor(serve, bundle: Path, images: dict[str, bytes]) -> None:
    url = serve(**FAST)
    predictor = load(bundle, runtime="onnxruntime", threads=1)
    expected = predictor.predict(images["small"], top_k=10)
    multipart = httpx.post(
        f"{url}/v1/predict", params={"top_k": 10}, files={"file": ("cat.jpg", images["small"], "image/jpeg")}
    )
    raw = httpx.post(
        f"{url}/v1/predict?top_k=10", content=images["small"], headers={"Content-Type": "image/jpeg"}
    )
    for response in (multipart, raw):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["label"] == expected.label
        np.testing.assert_allclose(_probs(body, predictor.labels), expected.probs, atol=1e-5)
        assert body["model"]["name"] == "airbench" and body["model"]["version"]
        assert set(body["timings_ms"]) == {"decode", "queue", "inference", "total"}
    short = httpx.post(f"{url}/v1/predict", params={"top_k": 3}, files={"file": images["small"]}).json()
    assert [item["label"] for item in short["top_k"]] == [label for label, _ in expected.top_k[:3]]


def test_batch_route_mixed_sizes(serve, bundle: Path, images: dict[str, bytes]) -> None:
    url = serve(**FAST)
    predictor = load(bundle, runtime="onnxruntime", threads=1)
    order = ["small", "other", "small"]
    files = [("files", (f"{i}-{name}.jpg", images[name], "image/jpeg")) for i, name in enumerate(order)]
    response = httpx.post(f"{url}/v1/predict/batch", params={"top_k": 10}, files=files)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert [p["filename"] for p in predictions] == ["0-small.jpg", "1-other.jpg", "2-small.jpg"]
    expected = predictor.predict([images[name] for name in order], top_k=10)
    for got, want in zip(predictions, expected, strict=True):
        np.testing.assert_allclose(_probs(got, predictor.labels), want.probs, atol=1e-5)
    assert predictions[1]["batch_size"] == 1  # a different size is its own model call


def test_concurrent_requests_are_batched(serve, images: dict[str, bytes]) -> None:
    url = serve(**FAST)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=48)) as client:
            return await asyncio.gather(
                *[client.post("/v1/predict", files={"file": images["small"]}) for _ in range(48)]
            )

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    assert max(r.json()["batch_size"] for r in responses) > 1
    lines = httpx.get(f"{url}/metrics").text.splitlines()
    value = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in lines if line.startswith("lightship_batch")
    }
    assert value["lightship_batch_size_count"] > value['lightship_batch_size_bucket{le="1.0"}']
