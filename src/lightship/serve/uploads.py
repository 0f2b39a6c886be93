"""Getting image bytes out of a request: multipart file parts, or a raw body typed ``image/*``.

Only the transport is checked here (content types, parts, counts); whether the bytes are an image is
decided by the one decoding policy, :func:`lightship.images.decode_image`, run off the event loop.

Multipart bodies are split here rather than by Starlette's streaming form parser: the body is already
bounded by :class:`.limits.BodyLimitMiddleware`, and splitting it at the boundary in C (``bytes.split``)
costs a fraction of the per-part callbacks and spooled temp files, which dominated the per-request CPU
in the load benchmark.

File names arrive as browsers send them (raw UTF-8 in ``filename="猫.png"``, RFC 7578) or RFC 5987
encoded (``filename*=UTF-8''%E7%8C%AB.png``, preferred when both are there); :func:`display_name` makes
them safe to echo (control and bidirectional-override characters escaped, length capped). They are
labels in answers only, never paths.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from python_multipart.multipart import parse_options_header

from lightship.serve.problems import ServeError

#: Part content types accepted besides ``image/*``: what clients send when they do not know the type.
GENERIC_TYPES = frozenset({"", "application/octet-stream"})
MAX_BOUNDARY = 200  # RFC 2046 says 70; be lenient, but a boundary is never long


MAX_NAME = 255  # characters of a file name echoed back


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its display name, bytes, and the error that refuses it before decoding, if any."""

    name: str
    data: bytes
    error: ServeError | None = None


def request_body_doc(batch: bool) -> dict[str, Any]:
    """OpenAPI text for the predict bodies: the routes read the request themselves, so FastAPI cannot infer it."""
    file_schema = {"type": "string", "format": "binary"}
    if batch:
        field = {"files": {"type": "array", "items": file_schema, "minItems": 1}}
        schema = {"type": "object", "properties": field, "required": ["files"]}
    else:
        schema = {"type": "object", "properties": {"file": file_schema}, "required": ["file"]}
    content: dict[str, Any] = {"multipart/form-data": {"schema": schema}}
    if not batch:
        content["image/*"] = {"schema": file_schema}
    return {"requestBody": {"required": True, "content": content}}


_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def disposition_params(header: str) -> dict[str, str]:
    """Parameters of a Content-Disposition value, lower-cased names, quotes and escapes removed.

    Written here because the multipart parsers at hand encode header values as Latin-1 and fail on the
    raw UTF-8 names browsers send. ``filename*`` (RFC 5987: ``charset'lang'percent-encoded``) is decoded
    and wins over ``filename``.
    """
    params: dict[str, str] = {}
    for name, raw in _PARAM.findall(header):
        value = raw.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r'\\(["\\])', r"\1", value[1:-1])  # only \" and \\ are escapes
        params[name.lower()] = value
    extended = params.pop("filename*", None)
    if extended is not None:
        charset, _, rest = extended.partition("'")
        _, _, encoded = rest.partition("'")
        try:
            params["filename"] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            params["filename"] = unquote(encoded, errors="replace")
    return params


def display_name(name: str) -> str:
    """``name`` safe to echo in JSON and logs: control, format (bidi override) and unpaired surrogate
    characters as ``\\uXXXX`` escapes, at most MAX_NAME characters."""
    safe = "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") else f"\\u{ord(ch):04x}"
        for ch in name[: MAX_NAME + 1]
    )
    return safe if len(safe) <= MAX_NAME else safe[: MAX_NAME - 1] + "\u2026"


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


async def read_uploads(request: Request, max_files: int, batch: bool) -> list[Upload]:
    """The uploaded images of ``request`` in order; ServeError (400/415) when the request carries none."""
    header = request.headers.get("content-type", "")
    media = _media_type(header)
    if media == "multipart/form-data":
        return _check_files(split_multipart(header, await request.body()), max_files if batch else 1, batch)
    if media.startswith("image/") and not batch:
        return [Upload("<body>", await request.body())]
    if media.startswith("image/"):  # batch
        raise ServeError(
            415,
            "unsupported_media_type",
            "/v1/predict/batch takes multipart/form-data with one file part per image",
        )
    accepted = "multipart/form-data" if batch else "multipart/form-data (field 'file') or an image/* body"
    raise ServeError(
        415, "unsupported_media_type", f"content type {media or '(none)'!r} is not accepted; send {accepted}"
    )


def _malformed(why: str) -> ServeError:
    return ServeError(400, "malformed_multipart", f"the multipart body is malformed: {why}")


def split_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """``(headers, content)`` of each part of a complete multipart body (RFC 7578/2046)."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary", b"")
    if not boundary or len(boundary) > MAX_BOUNDARY:
        raise _malformed("the Content-Type has no usable boundary parameter")
    # A delimiter is CRLF "--" boundary; prefixing CRLF lets a body that starts with one match too.
    sections = (b"\r\n" + body).split(b"\r\n--" + boundary)
    parts: list[tuple[dict[str, str], bytes]] = []
    for section in sections[1:]:  # sections[0] is the preamble
        if section.startswith(b"--"):  # the close delimiter: the epilogue after it is ignored
            return parts
        section = section.lstrip(b" \t")  # transport padding
        if not section.startswith(b"\r\n"):
            raise _malformed("a boundary is not followed by a line break")
        head, found, content = section[2:].partition(b"\r\n\r\n")
        if not found:
            raise _malformed("a part has no blank line after its headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    raise _malformed("no closing boundary (was the upload cut short?)")


def _check_files(parts: list[tuple[dict[str, str], bytes]], limit: int, batch: bool) -> list[Upload]:
    """File parts (with a filename or an image/binary type) in order; other form fields are ignored.

    A part whose own type is not an image is refused: the whole request on /v1/predict, that entry on
    the batch route.
    """
    uploads: list[Upload] = []
    for headers, content in parts:
        disposition = disposition_params(headers.get("content-disposition", ""))
        filename = disposition.get("filename")
        part_type = _media_type(headers.get("content-type", ""))
        is_file = (
            filename is not None or part_type.startswith("image/") or part_type == "application/octet-stream"
        )
        if not is_file:
            continue
        name = display_name(filename or disposition.get("name") or "") or f"file #{len(uploads)}"
        error = None
        if not (part_type.startswith("image/") or part_type in GENERIC_TYPES):
            error = ServeError(
                415,
                "unsupported_media_type",
                f"{name}: part content type {display_name(part_type)!r} is not an image type",
            )
            if not batch:
                raise error
        uploads.append(Upload(name, content, error))
        if len(uploads) > limit:
            hint = f"at most {limit} per request" if batch else "use /v1/predict/batch for several"
            raise ServeError(400, "too_many_files", f"more than {limit} files sent; {hint}")
    if not uploads:
        field = "files" if batch else "file"
        raise ServeError(400, "no_file", f"the multipart body has no file; send the image in field {field!r}")
    return uploads
