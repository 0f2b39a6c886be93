"""``lightship serve BUNDLE``: check the bundle, then run the app under uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from lightship.errors import LightshipError
from lightship.runtime import load
from lightship.runtime.backends import RuntimeChoice, default_threads
from lightship.serve.app import create_app
from lightship.serve.settings import ServeSettings

log = logging.getLogger("lightship.serve")

#: How a multi-worker parent hands its arguments to each uvicorn worker process.
CONFIG_ENV = "LIGHTSHIP_SERVE_CONFIG"
TOKEN_ENV = "LIGHTSHIP_TOKEN"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def app_from_env() -> FastAPI:
    """uvicorn factory for ``--workers > 1``: each worker process loads the bundle itself."""
    config = json.loads(os.environ[CONFIG_ENV])
    settings = config["settings"]
    settings["site"] = Path(settings["site"]) if settings["site"] else None
    settings["cors"] = tuple(settings["cors"])
    settings["token"] = os.environ.get(TOKEN_ENV)  # never written into the config variable
    return create_app(
        Path(config["bundle"]),
        ServeSettings(**settings),
        config["runtime"],
        config["threads"],
        config["allow_unverified"],
    )


def serve_command(
    bundle: Path,
    runtime: RuntimeChoice = "onnxruntime",
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    max_batch: int = 32,
    max_wait_ms: float = 5.0,
    token: str | None = None,
    max_upload_mb: float = 10.0,
    queue_size: int = 512,
    timeout_s: float = 10.0,
    cors: list[str] | None = None,
    threads: int | None = None,
    site: Path | None = None,
    access_log: bool = False,
    allow_unverified: bool = False,
) -> int:
    """Serve a bundle over HTTP: predict routes, model info, health/readiness probes and Prometheus metrics.

    The bundle's files are checked against their manifest sha256 before the port is bound, so a tampered
    bundle never serves. Concurrent requests are micro-batched into one model call. SIGTERM/SIGINT stop
    accepting connections and finish the requests in flight before exiting.

    Args:
        bundle: Bundle folder written by ``lightship export``.
        runtime: Runtime of the artifact to serve, or ``auto`` (the bundle's preferred verified artifact).
        host: Interface to bind. The loopback default keeps the server private; use 0.0.0.0 (with
            --token) to expose it.
        port: TCP port.
        workers: Server processes, each with its own model copy and batcher. Threads are split between them.
        max_batch: Most images per model call.
        max_wait_ms: Longest an image waits for others to join its batch; it waits only while other
            requests are being read or decoded, so a lone request pays no delay.
        token: Require ``Authorization: Bearer TOKEN`` on the predict routes; default: env LIGHTSHIP_TOKEN,
            unset = no auth.
        max_upload_mb: Largest request body in MB; larger uploads get 413 while streaming in.
        queue_size: Most images waiting for a batch per worker; beyond it requests get 503 with Retry-After.
        timeout_s: Per-request deadline (decode, queue and inference); past it the answer is 504.
        cors: Origins allowed to call the API from a browser (e.g. https://example.org); default none (CORS off).
        threads: CPU threads of the runtime per worker; default: the usable cores divided among the workers.
        site: Folder of a web app built by ``lightship web BUNDLE --out SITE`` to serve at ``/``.
        access_log: Log one line per request (costs throughput; /metrics counts requests anyway).
        allow_unverified: Serve an artifact that failed or lacks verification (refused otherwise); every
            answer then says so in `model.unverified`.

    Returns:
        0 after a clean shutdown.
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    settings = ServeSettings(
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        queue_size=queue_size,
        timeout_s=timeout_s,
        token=token,
        max_upload_mb=max_upload_mb,
        cors=tuple(cors or ()),
        site=site,
    )
    if workers < 1:
        raise LightshipError(f"workers must be >= 1, got {workers}")
    if threads is None and workers > 1:
        threads = max(1, default_threads() // workers)
    if host not in LOOPBACK and token is None:
        log.warning("serving on %s without --token: anyone who can reach this port can use the model", host)
    # Load (and hash-check) the bundle before binding: a tampered bundle fails here with a clear message.
    predictor = load(bundle, runtime=runtime, threads=threads, allow_unverified=allow_unverified)
    if predictor.unverified is not None:
        log.warning("serving an unverified artifact (--allow-unverified): %s", predictor.unverified)
    # The drain waits for in-flight requests, each bounded by timeout_s: never hang longer than that.
    grace = int(timeout_s) + 5
    if workers == 1:
        app = create_app(predictor, settings)
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=access_log,
            timeout_graceful_shutdown=grace,
            log_level="info",
        )
        return 0
    del predictor  # each worker loads its own copy
    public = {**asdict(settings), "token": None, "site": str(site) if site else None}
    os.environ[CONFIG_ENV] = json.dumps(
        {
            "bundle": str(bundle),
            "runtime": runtime,
            "threads": threads,
            "allow_unverified": allow_unverified,
            "settings": public,
        }
    )
    if token is not None:
        os.environ[TOKEN_ENV] = token
    uvicorn.run(
        f"{__name__}:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        timeout_graceful_shutdown=grace,
        log_level="info",
    )
    return 0
