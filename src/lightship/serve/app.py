"""``create_app``: the FastAPI application around one loaded bundle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from lightship import __version__
from lightship.runtime import Predictor
from lightship.serve.fastpath import FastPathMiddleware
from lightship.serve.limits import BodyLimitMiddleware
from lightship.serve.metrics import MetricsMiddleware
from lightship.serve.problems import HANDLERS
from lightship.serve.routes import build_router, root_page_route
from lightship.serve.security import SECURITY_SCHEMES, BearerAuth
from lightship.serve.settings import ServeSettings
from lightship.serve.state import ServerState


def create_app(
    bundle: str | Path | Predictor,
    settings: ServeSettings | None = None,
    runtime: str = "onnxruntime",
    threads: int | None = None,
    device: str = "cpu",
    allow_unverified: bool = False,
) -> FastAPI:
    """The app serving ``bundle`` (a folder, checked against its manifest hashes now, or a loaded Predictor).

    Batching starts and the model warms up in the app's lifespan, i.e. once the server runs it.
    """
    settings = settings or ServeSettings()
    predictor = (
        bundle
        if isinstance(bundle, Predictor)
        else Predictor(
            bundle, runtime=runtime, threads=threads, device=device, allow_unverified=allow_unverified
        )
    )
    state = ServerState(predictor, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:  # uvicorn has drained in-flight requests by now; finish what is queued, then stop
            await state.stop()

    app = FastAPI(
        title=f"lightship serve: {predictor.manifest['model']['name']}",
        version=__version__,
        description="Image classification with a lightship bundle. Send raw image bytes; "
        "resizing and normalisation happen inside the model.",
        lifespan=lifespan,
    )
    app.state.server = state
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    router, fast_routes = build_router(BearerAuth(settings.token), settings.public_metrics)
    if settings.site is None:
        root_page_route(router)
    app.include_router(router)
    if settings.site is not None:  # mounted last: the API routes above take precedence over files
        app.mount("/", StaticFiles(directory=settings.site, html=True), name="site")
    # add_middleware wraps: the last added is outermost. Metrics outermost so it counts every answer;
    # the predict fast path innermost, so every other layer still applies to it.
    app.add_middleware(FastPathMiddleware, handlers=fast_routes)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    if settings.cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)

    def openapi() -> dict[str, Any]:
        """FastAPI's schema plus the bearer scheme the guarded routes declare."""
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
