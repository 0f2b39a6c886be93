"""The multipart splitter on the shapes real clients send (no server needed)."""

from __future__ import annotations

import pytest

from lightship.serve.problems import ServeError
from lightship.serve.uploads import MAX_NAME, display_name, disposition_params, split_multipart

CT = "multipart/form-data; boundary=XyZ"


def test_parts_with_preamble_padding_epilogue_and_crlf_in_content() -> None:
    body = (
        b'preamble\r\n--XyZ  \r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--XyNotIt\r\n\xff\xd9\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="note"\r\n\r\nhi\r\n--XyZ--\r\nepilogue'
    )
    parts = split_multipart(CT, body)
    assert [headers["content-type"] for headers, _ in parts[:1]] == ["image/jpeg"]
    assert parts[0][1] == b"\xff\xd8\r\n--XyNotIt\r\n\xff\xd9"
    assert parts[1] == ({"content-disposition": 'form-data; name="note"'}, b"hi")


def test_quoted_boundary() -> None:
    body = b'--a b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\nDATA\r\n--a b--\r\n'
    assert split_multipart('multipart/form-data; boundary="a b"', body)[0][1] == b"DATA"


@pytest.mark.parametrize(
    "body",
    [
        b'--XyZ\r\nContent-Disposition: form-data; name="f"\r\n\r\nDATA',  # no closing boundary
        b'--XyZ\r\nContent-Disposition: form-data; name="f"\r\nDATA\r\n--XyZ--',  # no blank line
        b"--XyZjunk\r\n\r\nDATA\r\n--XyZ--",  # boundary not followed by a line break
    ],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(ServeError) as info:
        split_multipart(CT, body)
    assert info.value.status == 400 and info.value.code == "malformed_multipart"


def _one_file(disposition: bytes) -> str:
    body = (
        b"--XyZ\r\nContent-Disposition: "
        + disposition
        + b"\r\nContent-Type: image/png\r\n\r\nDATA\r\n--XyZ--\r\n"
    )
    ((headers, _),) = split_multipart(CT, body)
    return display_name(disposition_params(headers["content-disposition"])["filename"])


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ('form-data; name="file"; filename="猫.png"'.encode(), "猫.png"),  # raw UTF-8, as browsers send it
        (b"form-data; name=\"file\"; filename*=UTF-8''%E7%8C%AB.png", "猫.png"),  # RFC 5987
        (b'form-data; name="file"; filename="x.png"; filename*=UTF-8\'\'%E7%8C%AB.png', "猫.png"),  # * wins
        (
            b'form-data; name="file"; filename="a \\"quoted\\" name; with semicolon.png"',
            'a "quoted" name; with semicolon.png',
        ),
        (b'form-data; name="file"; filename="C:\\\\photos\\\\cat.png"', "C:\\photos\\cat.png"),
        (b"form-data; name=\"file\"; filename*=bogus-charset''%41.png", "A.png"),
        (
            'form-data; name="file"; filename="evil\u202egnp.exe"'.encode(),
            "evil\\u202egnp.exe",
        ),  # bidi override
        (b'form-data; name="file"; filename="tab\there.png"', "tab\\u0009here.png"),
        (b'form-data; name="file"; filename="\xff\xfe.png"', "\ufffd\ufffd.png"),  # not UTF-8
    ],
)
def test_file_names_any_encoding_echoed_escaped(disposition: bytes, name: str) -> None:
    assert _one_file(disposition) == name


def test_long_names_are_capped() -> None:
    assert len(display_name("x" * 10_000)) == MAX_NAME
