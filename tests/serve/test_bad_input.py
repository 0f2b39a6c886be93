"""Every class of bad input gets a 4xx JSON error naming the problem; the server keeps serving."""

from __future__ import annotations

import httpx
import pytest

FAST = {"max_wait_ms": 50.0, "max_upload_mb": 1.0}
TOO_LARGE = b"\xff" * (1024 * 1024 + 1)


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "make_request", "status", "code"),
    [
        (
            "non-image",
            lambda im: {"files": {"file": ("notes.txt", b"hello, world", "application/octet-stream")}},
            400,
            "not_an_image",
        ),
        (
            "truncated",
            lambda im: {"files": {"file": ("cut.jpg", _truncated(im["other"]), "image/jpeg")}},
            400,
            "corrupt_image",
        ),
        (
            "bomb",
            lambda im: {"files": {"file": ("bomb.png", im["bomb"], "image/png")}},
            413,
            "image_too_many_pixels",
        ),
        (
            "zero bytes multipart",
            lambda im: {"files": {"file": ("empty.jpg", b"", "image/jpeg")}},
            400,
            "empty_image",
        ),
        (
            "zero bytes raw",
            lambda im: {"content": b"", "headers": {"Content-Type": "image/png"}},
            400,
            "empty_image",
        ),
        (
            "wrong body type",
            lambda im: {"content": im["small"], "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ("no content type", lambda im: {"content": im["small"]}, 415, "unsupported_media_type"),
        (
            "wrong part type",
            lambda im: {"files": {"file": ("a.jpg", im["small"], "text/html")}},
            415,
            "unsupported_media_type",
        ),
        (
            "no file field",
            lambda im: {
                "content": b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\nx\r\n--B--\r\n',
                "headers": {"Content-Type": "multipart/form-data; boundary=B"},
            },
            400,
            "no_file",
        ),
        (
            "cut multipart",
            lambda im: {
                "content": b'--B\r\nContent-Disposition: form-data; name="file"; filename="a"'
                b"\r\n\r\n" + im["small"],
                "headers": {"Content-Type": "multipart/form-data; boundary=B"},
            },
            400,
            "malformed_multipart",
        ),
        (
            "no boundary",
            lambda im: {"content": b"x", "headers": {"Content-Type": "multipart/form-data"}},
            400,
            "malformed_multipart",
        ),
        (
            "two files",
            lambda im: {"files": [("file", im["small"]), ("file", im["small"])]},
            400,
            "too_many_files",
        ),
        (
            "too large",
            lambda im: {"content": TOO_LARGE, "headers": {"Content-Type": "image/jpeg"}},
            413,
            "upload_too_large",
        ),
        (
            "too large chunked",
            lambda im: {
                "content": iter([TOO_LARGE[:700_000], TOO_LARGE[700_000:]]),
                "headers": {"Content-Type": "image/jpeg"},
            },
            413,
            "upload_too_large",
        ),
        (
            "bad top_k",
            lambda im: {"params": {"top_k": 0}, "files": {"file": im["small"]}},
            422,
            "invalid_parameter",
        ),
        (
            "superscript top_k",
            lambda im: {"params": {"top_k": "²"}, "files": {"file": im["small"]}},
            422,
            "invalid_parameter",
        ),
        (
            "unknown parameter",
            lambda im: {"params": {"topk": "3"}, "files": {"file": im["small"]}},
            422,
            "invalid_parameter",
        ),
    ],
)
def test_bad_input_is_a_named_4xx(serve, images, name, make_request, status, code) -> None:
    url = serve(**FAST)
    response = httpx.post(f"{url}/v1/predict", **make_request(images))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert httpx.post(f"{url}/v1/predict", files={"file": images["small"]}).status_code == 200


def test_batch_answers_per_file(serve, images) -> None:
    url = serve(**FAST)
    files = [
        ("files", ("good.jpg", images["small"], "image/jpeg")),
        ("files", ("broken.jpg", b"GIF89a nonsense")),
        ("files", ("bomb.png", images["bomb"], "image/png")),
        ("files", ("page.html", images["small"], "text/html")),
        ("files", ("other.jpg", images["other"], "image/jpeg")),
    ]
    response = httpx.post(f"{url}/v1/predict/batch", files=files)
    assert response.status_code == 200, response.text
    entries = response.json()["predictions"]
    assert [e["filename"] for e in entries] == [
        "good.jpg",
        "broken.jpg",
        "bomb.png",
        "page.html",
        "other.jpg",
    ]
    assert [e.get("error", {}).get("code") for e in entries] == [
        None,
        "not_an_image",
        "image_too_many_pixels",
        "unsupported_media_type",
        None,
    ]
    assert "broken.jpg" in entries[1]["error"]["message"]
    assert entries[2]["error"]["limit"] == "max_pixels" and entries[2]["error"]["value"] == 400_000_000
    assert entries[0]["label"] and entries[4]["top_k"]
    raw = httpx.post(
        f"{url}/v1/predict/batch", content=images["small"], headers={"Content-Type": "image/jpeg"}
    )
    assert raw.status_code == 415


def test_no_5xx_recorded(serve) -> None:
    url = serve(**FAST)
    httpx.post(f"{url}/v1/predict", content=TOO_LARGE, headers={"Content-Type": "image/jpeg"})
    metrics = httpx.get(f"{url}/metrics").text
    assert 'status="5' not in metrics
    assert 'lightship_errors_total{route="/v1/predict",status="413"}' in metrics
