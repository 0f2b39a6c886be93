"""Every error the server returns, as one JSON shape: ``{"error": {"code", "message"}}``.

Clients branch on ``code`` (stable) and show ``message`` (says what to do). Bad input always maps to a
4xx here, so a malformed upload can never surface as a 500 or take a worker down.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lightship.images import ImageDecodeError


class ServeError(Exception):
    """A request that cannot be served; becomes a JSON error response with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def decode_problem(exc: ImageDecodeError) -> ServeError:
    """Name the decode failure class (empty, bomb, not an image, truncated) from the one decoding policy."""
    reason = exc.reason.lower()
    if "0 bytes" in reason:
        code = "empty_image"
    elif "decompression bomb" in reason or "exceeds the limit" in reason:
        return ServeError(413, "image_too_many_pixels", str(exc))
    elif "not an image" in reason:
        code = "not_an_image"
    else:
        code = "corrupt_image"
    return ServeError(400, code, str(exc))


async def serve_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServeError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (404, 405, malformed multipart) in the same shape as ours."""
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error_response(422, "invalid_parameter", details)


async def internal_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not bad input: still JSON, and the traceback goes to the log (uvicorn prints it)."""
    return error_response(500, "internal_error", f"{type(exc).__name__}: the server failed; see its log")


HANDLERS = {
    ServeError: serve_error_handler,
    StarletteHTTPException: http_error_handler,
    RequestValidationError: validation_error_handler,
    Exception: internal_error_handler,
}
