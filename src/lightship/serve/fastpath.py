"""The predict routes' fast path: their POSTs go from the middleware stack straight to the route
functions, skipping FastAPI's router, exception and exit-stack layers.

Why: profiled under load (docs/serving.md), those layers cost about a fifth of the event loop's CPU per
request, for a route that reads its request itself and answers a prebuilt JSONResponse. The same
functions stay registered as FastAPI routes, so the OpenAPI schema, other methods (405) and every other
route are FastAPI's as before; errors take the same handlers; the outer middleware (metrics, upload
limit, CORS) still wraps every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lightship.serve.problems import ServeError, error_response

Handler = Callable[[Request], Awaitable[Response]]


class FastPathMiddleware:
    """Innermost ASGI layer: ``POST`` to a path in ``handlers`` calls that handler directly."""

    def __init__(self, app: ASGIApp, handlers: Mapping[str, Handler]) -> None:
        self.app = app
        self.handlers = dict(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            self.handlers.get(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if handler is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await handler(Request(scope, receive, send))
        except ServeError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)
        await response(scope, receive, send)
