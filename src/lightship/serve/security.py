"""Optional bearer-token auth for prediction, the model description and the metrics (the health and
readiness probes stay open).

A plain check called first thing in the routes, not a FastAPI dependency: it runs before the body is
read, and skips the per-request dependency machinery on the hot path. The OpenAPI schema still declares
it (``SECURITY_SCHEMES``) so clients and Schemathesis know which routes need the token.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from lightship.serve.problems import ServeError

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Required when the server runs with --token (or LIGHTSHIP_TOKEN)",
    }
}
#: ``security`` of a guarded operation (declared only when the server runs with a token).
SECURITY = [{"bearer": []}]


class BearerAuth:
    """Lets every request through when ``token`` is None, else only ``Authorization: Bearer <token>``."""

    def __init__(self, token: str | None) -> None:
        self.expected = token.encode() if token is not None else None

    def check(self, request: Request) -> None:
        if self.expected is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # compare_digest: the time taken does not reveal how many leading characters were right.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.expected):
            raise ServeError(
                401,
                "unauthorized",
                "missing or wrong bearer token (Authorization: Bearer <token>)",
                {"WWW-Authenticate": "Bearer"},
            )
