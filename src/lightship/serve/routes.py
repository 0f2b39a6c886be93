"""The HTTP routes. Predict routes read the request themselves (see :mod:`.uploads`) so that bad input
gets our own 4xx error before any decoding, and auth is checked before the body is read."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lightship.serve.batcher import Scored
from lightship.serve.fastpath import Handler
from lightship.serve.params import TOP_K, parse_query
from lightship.serve.problems import ServeError, error_response
from lightship.serve.schemas import BatchResponse, PredictResponse, error_docs
from lightship.serve.security import SECURITY, BearerAuth
from lightship.serve.state import Outcome, ServerState
from lightship.serve.uploads import read_uploads, request_body_doc

ROOT_PAGE = """<!doctype html><meta charset="utf-8"><title>lightship serve</title>
<h1>lightship serve</h1><p>API docs: <a href="/docs">/docs</a>
(OpenAPI: <a href="/openapi.json">/openapi.json</a>). Model details: <a href="/v1/model">/v1/model</a>.
No web app is mounted; build one with <code>lightship web BUNDLE --out SITE</code> and serve it with
<code>--site SITE</code>.</p>"""

METRICS_DOC = {
    "responses": {
        "200": {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    }
}
ROOT_DOC = {
    "responses": {
        "200": {
            "description": "A page pointing to the docs",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    }
}


def _state(request: Request) -> ServerState:
    return request.app.state.server


def _top_k(labels: list[str], probs: np.ndarray, k: int) -> list[dict[str, Any]]:
    """Best first, ties in label order (as a stable argsort of -probs; sorted() on a list is several
    times cheaper than numpy's call overhead for a few classes, measured in the server's profile)."""
    values = probs.tolist()
    order = sorted(range(len(values)), key=lambda i: -values[i])[: max(1, min(k, len(labels)))]
    return [{"label": labels[i], "probability": values[i]} for i in order]


def _timings(started: float, decode_ms: float, scored: list[Scored]) -> dict[str, float]:
    return {
        "decode": round(decode_ms, 3),
        "queue": round(max((s.queue_ms for s in scored), default=0.0), 3),
        "inference": round(max((s.inference_ms for s in scored), default=0.0), 3),
        "total": round((time.perf_counter() - started) * 1000, 3),
    }


def _entry(name: str, outcome: Outcome, labels: list[str], top_k: int) -> dict[str, Any]:
    if isinstance(outcome, ServeError):
        return {"filename": name, "error": outcome.body()}
    top = _top_k(labels, outcome.probs, top_k)
    return {
        "filename": name,
        "label": top[0]["label"],
        "probability": top[0]["probability"],
        "top_k": top,
        "batch_size": outcome.batch_size,
    }


def build_router(auth: BearerAuth, public_metrics: bool = False) -> tuple[APIRouter, dict[str, Handler]]:
    """All routes, and the predict routes' functions by path for :class:`.fastpath.FastPathMiddleware`.

    ``auth`` guards prediction, the model description and (unless ``public_metrics``) the metrics.
    Health and readiness probes stay open.
    """
    router = APIRouter()
    predict_errors = error_docs(400, 401, 413, 415, 422, 503, 504)
    guarded = {"security": SECURITY} if auth.expected is not None else {}

    def predict_doc(batch: bool) -> dict[str, Any]:
        return {**request_body_doc(batch), "parameters": [TOP_K.openapi()], **guarded}

    @router.post(
        "/v1/predict",
        response_model=PredictResponse,
        responses=predict_errors,
        openapi_extra=predict_doc(batch=False),
        tags=["predict"],
    )
    async def predict(request: Request) -> JSONResponse:
        """Classify one image: a multipart field ``file`` or a raw ``image/*`` body."""
        started = time.perf_counter()
        auth.check(request)
        top_k = parse_query(request.query_params, TOP_K)
        state = _state(request)
        uploads = await read_uploads(request, state.settings.max_batch_files, batch=False)
        (outcome,), decode_ms = await state.score(uploads, started, request.receive)
        if isinstance(outcome, ServeError):
            raise outcome
        top = _top_k(state.predictor.labels, outcome.probs, top_k)
        return JSONResponse(
            {
                "model": state.model_ref,
                "label": top[0]["label"],
                "probability": top[0]["probability"],
                "top_k": top,
                "batch_size": outcome.batch_size,
                "timings_ms": _timings(started, decode_ms, [outcome]),
            }
        )

    @router.post(
        "/v1/predict/batch",
        response_model=BatchResponse,
        responses=predict_errors,
        openapi_extra=predict_doc(batch=True),
        tags=["predict"],
    )
    async def predict_batch(request: Request) -> JSONResponse:
        """Classify several images sent as multipart file fields (any field name; ``files`` by convention).
        Answers 200 with one entry per file in order: a prediction, or ``{"filename", "error"}`` for a file
        that could not be scored. Only a request that is malformed as a whole fails as a whole."""
        started = time.perf_counter()
        auth.check(request)
        top_k = parse_query(request.query_params, TOP_K)
        state = _state(request)
        uploads = await read_uploads(request, state.settings.max_batch_files, batch=True)
        outcomes, decode_ms = await state.score(uploads, started, request.receive)
        labels = state.predictor.labels
        return JSONResponse(
            {
                "model": state.model_ref,
                "predictions": [
                    _entry(u.name, o, labels, top_k) for u, o in zip(uploads, outcomes, strict=True)
                ],
                "timings_ms": _timings(started, decode_ms, [o for o in outcomes if isinstance(o, Scored)]),
            }
        )

    @router.get("/v1/model", tags=["model"], responses=error_docs(401), openapi_extra=guarded)
    async def model(request: Request) -> dict[str, Any]:
        """The bundle manifest's public part: model, classes, input spec, artifacts (no paths of any kind),
        and how this server serves it (format, runtime, batching, size limits)."""
        auth.check(request)
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

    metrics_doc = METRICS_DOC if public_metrics else {**METRICS_DOC, **guarded}

    @router.get(
        "/metrics",
        tags=["probes"],
        responses={} if public_metrics else error_docs(401),
        openapi_extra=metrics_doc,
        response_class=Response,
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this process (needs the token when one is set, unless --public_metrics)."""
        if not public_metrics:
            auth.check(request)
        state = _state(request)
        return Response(state.metrics.render(), media_type=state.metrics.content_type)

    return router, {"/v1/predict": predict, "/v1/predict/batch": predict_batch}


def root_page_route(router: APIRouter) -> None:
    """``/`` when no web app is mounted: a pointer to the docs."""

    @router.get("/", tags=["probes"], openapi_extra=ROOT_DOC, response_class=HTMLResponse)
    async def root() -> HTMLResponse:
        """A page that points to the API docs."""
        return HTMLResponse(ROOT_PAGE)
