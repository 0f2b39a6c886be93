"""Every error the server returns, as one JSON shape: ``{"error": {"code", "message"}}``.

Clients branch on ``code`` (stable) and show ``message`` (says what to do). Size refusals add ``limit``
(which budget), ``value`` (the image's or request's figure) and ``allowed`` (the budget's). Bad input always
maps to a 4xx here, so a malformed upload can never surface as a 500 or take a worker down.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lightship.images import ImageDecodeError, ImageTooLarge


class ServeError(Exception):
    """A request that cannot be served; becomes a JSON error response with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = dict(details or {})

    def body(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.details}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: Mapping[str, object] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **(details or {})}}, status_code=status, headers=headers
    )


#: The error code of each size budget an image can exceed (see lightship.images.PixelLimits).
LIMIT_CODES = {
    "max_pixels": "image_too_many_pixels",
    "max_aspect": "image_aspect_ratio_too_large",
    "max_height": "image_exceeds_input_bound",
    "max_width": "image_exceeds_input_bound",
}
#: The serve option that sets each budget, named in messages so the operator knows what to change.
LIMIT_OPTIONS = {
    "max_pixels": "--max_image_mp",
    "max_aspect": "--max_aspect",
    "max_height": "the artifact's max_input",
    "max_width": "the artifact's max_input",
}


def _finite(value: float) -> float | None:
    return value if value != float("inf") else None


def request_too_large(pixels: int, allowed: int) -> ServeError:
    return ServeError(
        413,
        "request_too_many_pixels",
        f"the request's images declare {pixels:,} pixels in all, beyond the limit of {allowed:,} "
        "per request (--max_request_mp); send fewer or smaller images per request",
        details={"limit": "max_request_pixels", "value": pixels, "allowed": allowed},
    )


def decode_problem(exc: ImageDecodeError) -> ServeError:
    """Name the decode failure class (empty, bomb, not an image, truncated) from the one decoding policy."""
    if isinstance(exc, ImageTooLarge):
        return ServeError(
            413,
            LIMIT_CODES[exc.limit],
            f"{exc} ({LIMIT_OPTIONS[exc.limit]})",
            details={"limit": exc.limit, "value": _finite(exc.value), "allowed": exc.allowed},
        )
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
    return error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)


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
