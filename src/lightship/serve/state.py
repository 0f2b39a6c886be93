"""What one server process holds: the loaded model, its batcher, the decode pool and the metrics."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lightship.images import ImageDecodeError, decode_image
from lightship.runtime import Predictor
from lightship.runtime.backends import default_threads
from lightship.serve.batcher import MicroBatcher, QueueFull, Scored
from lightship.serve.metrics import ServeMetrics
from lightship.serve.problems import ServeError, decode_problem
from lightship.serve.settings import ServeSettings
from lightship.serve.uploads import Upload

#: Model files are part of the public model description; where they live on this machine is not.
_PRIVATE_ARTIFACT_KEYS = ("file", "files")
_PUBLIC_KEYS = (
    "schema_version",
    "lightship_version",
    "created",
    "model",
    "labels",
    "input",
    "outputs",
    "normalization",
    "verification",
)


def decode_all(uploads: list[Upload]) -> list[np.ndarray]:
    """On a decode thread: the one decoding policy, per upload, naming the upload in its errors."""
    return [decode_image(upload.data, source=upload.name) for upload in uploads]


@dataclass
class ServerState:
    predictor: Predictor
    settings: ServeSettings
    metrics: ServeMetrics = field(default_factory=ServeMetrics)
    batcher: MicroBatcher | None = None
    ready: bool = False
    decode_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=min(4, default_threads()), thread_name_prefix="lightship-decode"
        )
    )

    @property
    def model_ref(self) -> dict[str, str]:
        """Name and version: the manifest's model version when it has one, else the served file's sha256
        prefix, which changes exactly when the weights (or the export) change. ``unverified`` is there, in
        every prediction, when the artifact is served despite failing or lacking verification."""
        model = self.predictor.manifest["model"]
        version = model.get("version") or f"sha256:{self.predictor.artifact['files'][0]['sha256'][:12]}"
        ref = {"name": model["name"], "version": version}
        if self.predictor.unverified is not None:
            ref["unverified"] = self.predictor.unverified
        return ref

    def public_manifest(self) -> dict[str, Any]:
        manifest = self.predictor.manifest
        public = {key: manifest[key] for key in _PUBLIC_KEYS if key in manifest}
        public["artifacts"] = [
            {
                **{k: v for k, v in artifact.items() if k not in _PRIVATE_ARTIFACT_KEYS},
                "sha256": [record["sha256"] for record in artifact["files"]],
                "bytes": sum(record["bytes"] for record in artifact["files"]),
            }
            for artifact in manifest["artifacts"]
        ]
        public["serving"] = {
            "format": self.predictor.format,
            "runtime": self.predictor.runtime,
            "threads": self.predictor.threads,
            "max_batch": self.settings.max_batch,
            "max_wait_ms": self.settings.max_wait_ms,
        }
        return public

    async def start(self) -> None:
        """Start batching and warm the model up (first calls allocate memory) before /readyz says yes."""
        self.batcher = MicroBatcher(
            self.predictor.run,
            self.metrics,
            self.settings.max_batch,
            self.settings.max_wait_ms,
            self.settings.queue_size,
        )
        self.batcher.start()
        size = int(self.predictor.manifest["input"]["image_size"])
        for batch in sorted({1, self.settings.max_batch}):
            await self.batcher.call(
                lambda n=batch: self.predictor.run(np.zeros((n, size, size, 3), np.uint8))
            )
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        if self.batcher is not None:
            await self.batcher.stop()
        self.decode_pool.shutdown(wait=True)

    async def score(self, uploads: list[Upload], started: float) -> tuple[list[Scored], float]:
        """Decode off the loop, queue for a batch, wait within the request deadline; (results, decode ms)."""
        if not self.ready or self.batcher is None:
            raise ServeError(
                503, "not_ready", "the model is still loading; poll /readyz", {"Retry-After": "1"}
            )
        if not self.batcher.has_room(len(uploads)):  # shed load before spending CPU on decoding
            raise _busy(self.batcher)
        loop = asyncio.get_running_loop()
        decode_start = time.perf_counter()
        with self.batcher.incoming(len(uploads)):
            try:
                images = await loop.run_in_executor(self.decode_pool, decode_all, uploads)
            except ImageDecodeError as exc:
                raise decode_problem(exc) from None
            decode_ms = (time.perf_counter() - decode_start) * 1000
            try:
                futures = self.batcher.submit(images)
            except QueueFull:
                raise _busy(self.batcher) from None
        remaining = self.settings.timeout_s - (time.perf_counter() - started)
        try:
            return list(await asyncio.wait_for(asyncio.gather(*futures), remaining)), decode_ms
        except asyncio.TimeoutError:
            raise ServeError(
                504,
                "timeout",
                f"no result within {self.settings.timeout_s:g} s (--timeout_s); "
                "the server is overloaded or the model is slow",
            ) from None


def _busy(batcher: MicroBatcher) -> ServeError:
    return ServeError(
        503,
        "overloaded",
        f"the request queue is full (queue_size {batcher.queue_size}); retry shortly",
        {"Retry-After": "1"},
    )
