"""The HTTP routes. Predict routes read the request themselves (see :mod:`.uploads`) so that bad input
gets our own 4xx error before any decoding, and auth is checked before the body is read."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lightship.runtime.predictor import top_classes
from lightship.serve.batcher import Scored
from lightship.serve.problems import ServeError, error_response
from lightship.serve.schemas import BatchResponse, PredictResponse, error_docs
from lightship.serve.security import BearerAuth
from lightship.serve.state import ServerState
from lightship.serve.uploads import read_uploads, request_body_doc

ROOT_PAGE = """<!doctype html><meta charset="utf-8"><title>lightship serve</title>
<h1>lightship serve</h1><p>Model <b>{name}</b>. API docs: <a href="/docs">/docs</a>
(OpenAPI: <a href="/openapi.json">/openapi.json</a>). Model details: <a href="/v1/model">/v1/model</a>.
No web app is mounted; build one with <code>lightship web BUNDLE --out SITE</code> and serve it with
<code>--site SITE</code>.</p>"""

MAX_TOP_K = 1000
TOP_K_DOC = {
    "name": "top_k",
    "in": "query",
    "required": False,
    "description": "How many (label, probability) pairs to return, best first",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K, "default": 5},
}
AUTH_DOC = {
    "name": "Authorization",
    "in": "header",
    "required": False,
    "description": "`Bearer <token>` when the server runs with --token",
    "schema": {"type": "string"},
}


def _state(request: Request) -> ServerState:
    return request.app.state.server


def _top_k_param(request: Request) -> int:
    """``top_k`` parsed by hand: FastAPI's per-request parameter machinery was a visible share of the
    per-request CPU under load (see docs/serving.md), and this is the routes' only parameter."""
    raw = request.query_params.get("top_k", "5")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOP_K:
        raise ServeError(
            422, "invalid_parameter", f"top_k must be an integer from 1 to {MAX_TOP_K}, got {raw!r}"
        )
    return int(raw)


def _predict_doc(batch: bool) -> dict[str, Any]:
    return {**request_body_doc(batch), "parameters": [TOP_K_DOC, AUTH_DOC]}


def _top_k(labels: list[str], probs: np.ndarray, k: int) -> list[dict[str, Any]]:
    return [{"label": label, "probability": p} for label, p in top_classes(probs, labels, k)]


def _timings(started: float, decode_ms: float, scored: list[Scored]) -> dict[str, float]:
    return {
        "decode": round(decode_ms, 3),
        "queue": round(max(s.queue_ms for s in scored), 3),
        "inference": round(max(s.inference_ms for s in scored), 3),
        "total": round((time.perf_counter() - started) * 1000, 3),
    }


def build_router(auth: BearerAuth) -> APIRouter:
    """All routes; ``auth`` guards the predict routes only."""
    router = APIRouter()
    predict_errors = error_docs(400, 401, 413, 415, 422, 503, 504)

    @router.post(
        "/v1/predict",
        response_model=PredictResponse,
        responses=predict_errors,
        openapi_extra=_predict_doc(batch=False),
        tags=["predict"],
    )
    async def predict(request: Request) -> JSONResponse:
        """Classify one image: a multipart field ``file`` or a raw ``image/*`` body."""
        started = time.perf_counter()
        auth.check(request)
        top_k = _top_k_param(request)
        state = _state(request)
        uploads = await read_uploads(request, state.settings.max_batch_files, batch=False)
        scored, decode_ms = await state.score(uploads, started)
        top = _top_k(state.predictor.labels, scored[0].probs, top_k)
        return JSONResponse(
            {
                "model": state.model_ref,
                "label": top[0]["label"],
                "probability": top[0]["probability"],
                "top_k": top,
                "batch_size": scored[0].batch_size,
                "timings_ms": _timings(started, decode_ms, scored),
            }
        )

    @router.post(
        "/v1/predict/batch",
        response_model=BatchResponse,
        responses=predict_errors,
        openapi_extra=_predict_doc(batch=True),
        tags=["predict"],
    )
    async def predict_batch(request: Request) -> JSONResponse:
        """Classify several images sent as multipart file fields (any field name; ``files`` by convention).
        One bad image fails the request with an error that names it."""
        started = time.perf_counter()
        auth.check(request)
        top_k = _top_k_param(request)
        state = _state(request)
        uploads = await read_uploads(request, state.settings.max_batch_files, batch=True)
        scored, decode_ms = await state.score(uploads, started)
        predictions = []
        for upload, result in zip(uploads, scored, strict=True):
            top = _top_k(state.predictor.labels, result.probs, top_k)
            predictions.append(
                {
                    "filename": upload.name,
                    "label": top[0]["label"],
                    "probability": top[0]["probability"],
                    "top_k": top,
                    "batch_size": result.batch_size,
                }
            )
        return JSONResponse(
            {
                "model": state.model_ref,
                "predictions": predictions,
                "timings_ms": _timings(started, decode_ms, scored),
            }
        )

    @router.get("/v1/model", tags=["model"])
    async def model(request: Request) -> dict[str, Any]:
        """The bundle manifest's public part: model, classes, input spec, artifacts (no file paths)."""
        return _state(request).public_manifest()

    @router.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @router.get("/readyz", tags=["probes"], responses=error_docs(503))
    async def readyz(request: Request) -> Response:
        """Readiness: the model is loaded and warmed up, and the server is not shutting down."""
        if _state(request).ready:
            return JSONResponse({"status": "ready"})
        return error_response(503, "not_ready", "the model is loading or the server is shutting down")

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        state = _state(request)
        return Response(state.metrics.render(), media_type=state.metrics.content_type)

    return router


def root_page_route(router: APIRouter) -> None:
    """``/`` when no web app is mounted: a pointer to the docs."""

    @router.get("/", include_in_schema=False)
    async def root(request: Request) -> HTMLResponse:
        return HTMLResponse(ROOT_PAGE.format(name=_state(request).model_ref["name"]))
