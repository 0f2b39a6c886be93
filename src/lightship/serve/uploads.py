"""Getting image bytes out of a request: multipart file parts, or a raw body typed ``image/*``.

Only the transport is checked here (content types, parts, counts); whether the bytes are an image is
decided by the one decoding policy, :func:`lightship.images.decode_image`, run off the event loop.

Multipart bodies are split here rather than by Starlette's streaming form parser: the body is already
bounded by :class:`.limits.BodyLimitMiddleware`, and splitting it at the boundary in C (``bytes.split``)
costs a fraction of the per-part callbacks and spooled temp files, which dominated the per-request CPU
in the load benchmark. Header parameters are still parsed by python-multipart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from python_multipart.multipart import parse_options_header

from lightship.serve.problems import ServeError

#: Part content types accepted besides ``image/*``: what clients send when they do not know the type.
GENERIC_TYPES = frozenset({"", "application/octet-stream"})
MAX_BOUNDARY = 200  # RFC 2046 says 70; be lenient, but a boundary is never long


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def request_body_doc(batch: bool) -> dict[str, Any]:
    """OpenAPI text for the predict bodies: the routes read the request themselves, so FastAPI cannot infer it."""
    file_schema = {"type": "string", "format": "binary"}
    field = {"files": {"type": "array", "items": file_schema}} if batch else {"file": file_schema}
    content: dict[str, Any] = {"multipart/form-data": {"schema": {"type": "object", "properties": field}}}
    if not batch:
        content["image/*"] = {"schema": file_schema}
    return {"requestBody": {"required": True, "content": content}}


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
    """File parts (with a filename or an image/binary type) in order; other form fields are ignored."""
    uploads: list[Upload] = []
    for headers, content in parts:
        _, disposition = parse_options_header(headers.get("content-disposition", ""))
        filename = disposition.get(b"filename")
        part_type = _media_type(headers.get("content-type", ""))
        is_file = (
            filename is not None or part_type.startswith("image/") or part_type == "application/octet-stream"
        )
        if not is_file:
            continue
        name = (filename or disposition.get(b"name") or b"").decode(
            "utf-8", "replace"
        ) or f"file #{len(uploads)}"
        if not (part_type.startswith("image/") or part_type in GENERIC_TYPES):
            raise ServeError(
                415, "unsupported_media_type", f"{name}: part content type {part_type!r} is not an image type"
            )
        uploads.append(Upload(name, content))
        if len(uploads) > limit:
            hint = f"at most {limit} per request" if batch else "use /v1/predict/batch for several"
            raise ServeError(400, "too_many_files", f"more than {limit} files sent; {hint}")
    if not uploads:
        field = "files" if batch else "file"
        raise ServeError(400, "no_file", f"the multipart body has no file; send the image in field {field!r}")
    return uploads
