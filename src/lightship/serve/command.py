"""``lightship serve BUNDLE``: check the bundle, then run the app under uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import ctypes
import json
import logging
import os
from dataclasses import asdict, replace
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from lightship.errors import check_at_least, check_port
from lightship.runtime import Predictor
from lightship.runtime.backends import DeviceChoice, RuntimeChoice, default_threads
from lightship.serve.app import create_app
from lightship.serve.settings import ServeSettings

log = logging.getLogger("lightship.serve")

#: How a multi-worker parent hands its arguments to each uvicorn worker process.
CONFIG_ENV = "LIGHTSHIP_SERVE_CONFIG"
TOKEN_ENV = "LIGHTSHIP_TOKEN"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


#: glibc's mallopt parameter: allocations from this size on are separate mappings, unmapped when freed.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20


def return_large_frees_to_the_system() -> None:
    """Make glibc hand large freed blocks (decoded images, runtime buffers) back to the system at once.

    By default glibc raises its mmap threshold after the first large block is freed (up to 32 MB), and
    later blocks of that size come from heap arenas that are never given back: after one 50 MP photo
    the process kept ~500 MB it no longer used. Setting the threshold fixes it at 1 MB. No-op where
    the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass


def serving_predictor(
    bundle: Path, runtime: str, threads: int, device: str = "cpu", allow_unverified: bool = False
) -> tuple[Predictor, int]:
    """The bundle loaded for serving with ``threads`` CPU threads, and how many model calls may run at once.

    ONNX Runtime sessions take concurrent calls: the model is loaded single-threaded and ``threads``
    batches run at once (see :mod:`.batcher` for the measurement). Other runtimes get ``threads``
    intra-op threads and one call at a time. A failed or unverified artifact is refused unless
    ``allow_unverified``.
    """
    if runtime in ("onnxruntime", "auto"):
        predictor = Predictor(
            bundle, runtime=runtime, threads=1, device=device, allow_unverified=allow_unverified
        )
        if predictor.runtime == "onnxruntime":
            return predictor, threads
        if threads == 1:
            return predictor, 1
    return Predictor(
        bundle, runtime=runtime, threads=threads, device=device, allow_unverified=allow_unverified
    ), 1


def app_from_env() -> FastAPI:
    """uvicorn factory for ``--workers > 1``: each worker process loads the bundle itself."""
    return_large_frees_to_the_system()
    config = json.loads(os.environ[CONFIG_ENV])
    settings = config["settings"]
    settings["site"] = Path(settings["site"]) if settings["site"] else None
    settings["cors"] = tuple(settings["cors"])
    settings["token"] = os.environ.get(TOKEN_ENV)  # never written into the config variable
    predictor, parallel = serving_predictor(
        Path(config["bundle"]),
        config["runtime"],
        config["threads"],
        config["device"],
        config["allow_unverified"],
    )
    return create_app(predictor, replace(ServeSettings(**settings), parallel_calls=parallel))


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
    max_image_mp: float = 100.0,
    max_aspect: float = 50.0,
    max_request_mp: float = 200.0,
    decoded_budget_mp: float = 64.0,
    public_metrics: bool = False,
    device: DeviceChoice = "cpu",
    allow_unverified: bool = False,
) -> int:
    """Serve a bundle over HTTP: predict routes, model info, health/readiness probes and Prometheus metrics.

    The bundle's files are checked against their manifest sha256 before the port is bound, so a tampered
    bundle never serves. Concurrent requests are micro-batched into one model call. SIGTERM/SIGINT stop
    accepting connections and finish the requests in flight before exiting.

    Args:
        bundle: Bundle folder written by ``lightship export``.
        runtime: Runtime of the artifact to serve (onnxruntime, openvino, torchscript), one of the bundle's
            format names (onnx, onnx-int8, ...), or ``auto`` (the bundle's preferred verified artifact).
        host: Interface to bind. The loopback default keeps the server private; use 0.0.0.0 (with
            --token) to expose it.
        port: TCP port.
        workers: Server processes, each with its own model copy and batcher. Threads are split between them.
        max_batch: Most images per model call.
        max_wait_ms: Longest an image waits for others to join its batch; it waits only while other
            requests are being read or decoded, so a lone request pays no delay.
        token: Require ``Authorization: Bearer TOKEN`` on the predict routes, /v1/model and /metrics
            (/healthz and /readyz stay open); default: env LIGHTSHIP_TOKEN, unset = no auth.
        max_upload_mb: Largest request body in MB; larger uploads get 413 while streaming in.
        queue_size: Most images waiting for a batch per worker; beyond it requests get 503 with Retry-After.
        timeout_s: Per-request deadline (decode, queue and inference); past it the answer is 504.
        cors: Origins allowed to call the API from a browser (e.g. https://example.org); default none (CORS off).
        threads: CPU threads of the model per worker; default: the usable cores divided among the workers.
            With onnxruntime they run that many batches at once, one thread each; other runtimes use them
            within one call.
        site: Folder of a web app built by ``lightship web BUNDLE --out SITE`` to serve at ``/``.
        access_log: Log one line per request (costs throughput; /metrics counts requests anyway).
        max_image_mp: Largest image in megapixels, read from its header before decoding; larger: 413.
        max_aspect: Largest ratio of an image's longer side to its shorter side; beyond it: 413.
        max_request_mp: Most megapixels in one request's images together; beyond it the request gets 413.
        decoded_budget_mp: Most decoded megapixels held at once per worker (from decoding until scored);
            an image larger than this waits until nothing else is held and then runs alone.
        public_metrics: Serve /metrics without the token (for a Prometheus scraper).
        device: ``cpu``, or ``cuda`` to run an ONNX artifact on ONNX Runtime's CUDA provider (needs
            onnxruntime-gpu and an NVIDIA GPU; refused with the reason otherwise).
        allow_unverified: Serve an artifact that failed or lacks verification (refused otherwise); every
            answer then says so in `model.unverified`.

    Returns:
        0 after a clean shutdown.
    """
    check_at_least(1, workers=workers, threads=threads)
    check_port(port)
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
        max_image_mp=max_image_mp,
        max_aspect=max_aspect,
        max_request_mp=max_request_mp,
        decoded_budget_mp=decoded_budget_mp,
        public_metrics=public_metrics,
    )
    if threads is None:
        threads = max(1, default_threads() // workers)
    if host not in LOOPBACK and token is None:
        log.warning("serving on %s without --token: anyone who can reach this port can use the model", host)
    # Load (and hash-check) the bundle before binding: a tampered bundle fails here with a clear message.
    predictor, parallel = serving_predictor(bundle, runtime, threads, device, allow_unverified)
    settings = replace(settings, parallel_calls=parallel)
    if predictor.unverified is not None:
        log.warning("serving an unverified artifact (--allow-unverified): %s", predictor.unverified)
    # The drain waits for in-flight requests, each bounded by timeout_s: never hang longer than that.
    grace = int(timeout_s) + 5
    if workers == 1:
        return_large_frees_to_the_system()
        app = create_app(predictor, settings)
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=access_log,
            timeout_graceful_shutdown=grace,
            log_level="info",
            proxy_headers=False,
        )
        return 0
    del predictor  # each worker loads its own copy
    public = {**asdict(settings), "token": None, "site": str(site) if site else None}
    os.environ[CONFIG_ENV] = json.dumps(
        {
            "bundle": str(bundle),
            "runtime": runtime,
            "threads": threads,
            "device": device,
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
        proxy_headers=False,
    )
    return 0
