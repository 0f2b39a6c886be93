"""Upload size limit, enforced while the body streams in rather than after it is buffered.

A declared ``Content-Length`` over the limit is refused before reading a byte; a chunked or lying
client is cut off at the first chunk that crosses it, so memory per request stays bounded either way.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lightship.serve.problems import ServeError, error_response


def too_large(limit: int) -> ServeError:
    return ServeError(
        413,
        "upload_too_large",
        f"the request body exceeds the upload limit of {limit / 1024 / 1024:g} MB (--max_upload_mb)",
    )


class BodyLimitMiddleware:
    """Pure ASGI (no body buffering of its own) limit on request bodies under ``prefix``."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/v1/predict") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            problem = too_large(self.max_bytes)
            await error_response(problem.status, problem.code, problem.message, {"Connection": "close"})(
                scope, receive, send
            )
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)  # the app's ServeError handler turns it into a 413
            return message

        await self.app(scope, limited_receive, send)
