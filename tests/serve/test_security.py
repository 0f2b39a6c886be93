"""Bearer auth, CORS and the static site, on one configured server; the tampered-bundle refusal."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from lightship.errors import BundleError
from lightship.serve import serve_command

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def configured(serve, tmp_path_factory) -> str:
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<html><body>lightship web app</body></html>")
    return serve(token=TOKEN, cors=("https://example.org",), site=site)


def test_token_required_on_predict_model_and_metrics(configured, images) -> None:
    files = {"file": images["small"]}
    missing = httpx.post(f"{configured}/v1/predict", files=files)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = httpx.post(f"{configured}/v1/predict", files=files, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = httpx.post(f"{configured}/v1/predict", files=files, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/v1/model", "/metrics"):
        refused = httpx.get(f"{configured}{path}")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized", path
        assert TOKEN not in refused.text and "class0" not in refused.text
        assert httpx.get(f"{configured}{path}", headers=auth).status_code == 200, path
    for path in ("/healthz", "/readyz"):  # probes stay open
        assert httpx.get(f"{configured}{path}").status_code == 200


def test_public_metrics_opens_metrics_only(serve) -> None:
    url = serve(token=TOKEN, public_metrics=True)
    assert "lightship_requests_total" in httpx.get(f"{url}/metrics").text
    assert httpx.get(f"{url}/v1/model").status_code == 401


def test_auth_off_by_default(serve, images) -> None:
    url = serve(max_wait_ms=50.0, max_upload_mb=1.0)
    assert httpx.post(f"{url}/v1/predict", files={"file": images["small"]}).status_code == 200


def test_cors_only_when_configured(configured, serve) -> None:
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    allowed = httpx.options(f"{configured}/v1/predict", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://example.org"
    default = serve(max_wait_ms=50.0, max_upload_mb=1.0)
    response = httpx.get(f"{default}/healthz", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_site_is_served_at_root(configured) -> None:
    assert "lightship web app" in httpx.get(f"{configured}/").text
    model = httpx.get(f"{configured}/v1/model", headers={"Authorization": f"Bearer {TOKEN}"})
    assert model.status_code == 200 and model.json()["labels"]  # API routes win over files


def test_tampered_bundle_refuses_to_start(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(bundle, copy)
    with (copy / "model.onnx").open("r+b") as handle:
        handle.seek(-10, 2)
        handle.write(b"0123456789")
    with pytest.raises(BundleError, match="sha256"):
        serve_command(copy, port=1)  # fails before binding: port 1 would need root
