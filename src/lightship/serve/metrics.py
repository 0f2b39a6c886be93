"""Prometheus metrics of one server process, in a registry of its own (so apps in one process, as in
tests, never share or clash), plus the ASGI middleware that counts every response by route and status."""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    """The server's instruments. Route labels are route templates, never raw paths (bounded cardinality)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lightship_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "lightship_errors",
            "HTTP responses with status >= 400 by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lightship_request_seconds",
            "Request latency until the response is sent",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "lightship_batch_size",
            "Images per model call (one call per image size)",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.inference = Histogram(
            "lightship_inference_seconds",
            "Wall time of one model call",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "lightship_queue_depth", "Images waiting for a batch", registry=self.registry
        )
        self.decoded_pixels = Gauge(
            "lightship_decoded_pixels",
            "Pixels held in the decoded-pixel budget (decoding, queued or being scored)",
            registry=self.registry,
        )
        self.dropped = Counter(
            "lightship_images_dropped",
            "Images dropped before the model ran them: their request timed out or its client disconnected",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


#: Paths whose requests may be answered before routing (413 on a declared Content-Length).
PRE_ROUTING_PATHS = frozenset({"/v1/predict", "/v1/predict/batch"})


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return scope["path"] if scope["path"] in PRE_ROUTING_PATHS else "unmatched"
    if isinstance(route, Mount):
        return "static"
    return getattr(route, "path", "unmatched")


class MetricsMiddleware:
    """Outermost ASGI layer, so 401/413/503 answered by inner layers are counted too."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app dies before answering, uvicorn sends a 500: count it as such

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = route_label(scope)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            if status >= 400:
                self.metrics.errors.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
