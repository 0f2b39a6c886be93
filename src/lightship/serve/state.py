"""What one server process holds (the loaded model, its batcher, the decode pool, the pixel budget and
the metrics), and the path of one request's images: header check, budget, decode, batch, answer.

Budgets before work: every upload's dimensions come from its header (no pixel decoded) and are checked
against the per-image limits (an error for that image) and the per-request total (an error for the
request) before anything is decoded. Each image then holds its pixels in the process-wide
:class:`.budget.PixelBudget` from decoding until the model has scored it. A request whose deadline
passes or whose client disconnects is cancelled: its waiting images leave the budget queue, its queued
images are dropped by the batcher, and an image still decoding releases its pixels when that ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from PIL import Image

from lightship.images import ImageDecodeError, PixelLimits, displayed_size, finish_decode, open_image
from lightship.runtime import Predictor
from lightship.runtime.backends import default_threads
from lightship.runtime.public import public_manifest
from lightship.serve.batcher import MicroBatcher, QueueFull, Scored
from lightship.serve.budget import PixelBudget
from lightship.serve.metrics import ServeMetrics
from lightship.serve.problems import ServeError, decode_problem, request_too_large
from lightship.serve.settings import MEGA, ServeSettings
from lightship.serve.uploads import Upload

#: Uploads up to this size have their header read on the event loop (microseconds); larger ones on the
#: decode pool, since a hostile header (millions of JPEG markers) can take long to walk.
INLINE_HEADER_BYTES = 64 * 1024
#: Images up to this many pixels (and INLINE_HEADER_BYTES, since a crafted progressive JPEG's decode time
#: grows with its bytes) are decoded on the event loop, well under a millisecond: handing them to a pool
#: thread and back cost more CPU than decoding them (docs/serving.md, profile). Larger ones hold the
#: pixel budget and decode on the pool.
INLINE_DECODE_PIXELS = 128 * 128

#: One upload's outcome: its probabilities, or the error that refused it.
Outcome = Scored | ServeError

Receive = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class _Image:
    upload: Upload
    opened: Image.Image | None = None
    pixels: int = 0
    error: ServeError | None = None


async def _client_gone(receive: Receive) -> None:
    """Returns once the client has disconnected (the request body has been read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


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
    limits: PixelLimits = field(init=False)
    budget: PixelBudget = field(init=False)

    def __post_init__(self) -> None:
        self.limits = self.settings.pixel_limits(self.predictor.artifact.get("max_input"))
        self.budget = PixelBudget(
            int(self.settings.decoded_budget_mp * MEGA), self.metrics.decoded_pixels.set
        )

    @property
    def parallel_calls(self) -> int:
        """Concurrent model calls: as configured for ONNX Runtime (thread-safe sessions), else one."""
        return self.settings.parallel_calls if self.predictor.runtime == "onnxruntime" else 1

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
        public = public_manifest(self.predictor.manifest)
        public["serving"] = {
            "format": self.predictor.format,
            "runtime": self.predictor.runtime,
            "threads": self.predictor.threads,
            "parallel_calls": self.parallel_calls,
            "max_batch": self.settings.max_batch,
            "max_wait_ms": self.settings.max_wait_ms,
            "limits": {
                "max_pixels": self.limits.max_pixels,
                "max_aspect": self.limits.max_aspect,
                "max_height": self.limits.max_height,
                "max_width": self.limits.max_width,
                "max_request_pixels": int(self.settings.max_request_mp * MEGA),
                "max_upload_bytes": self.settings.max_upload_bytes,
            },
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
            self.parallel_calls,
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

    async def score(
        self, uploads: list[Upload], started: float, receive: Receive
    ) -> tuple[list[Outcome], float]:
        """Each upload's outcome, in order, within the request deadline; and the decode time in ms.

        Raises ServeError for the request as a whole: not ready, overloaded, over the per-request pixel
        total, past its deadline (504), or its client gone (499, which nobody reads but the metrics).
        """
        if not self.ready or self.batcher is None:
            raise ServeError(
                503, "not_ready", "the model is still loading; poll /readyz", {"Retry-After": "1"}
            )
        if not self.batcher.has_room(len(uploads)):  # shed load before spending CPU on decoding
            raise _busy(self.batcher)
        work = asyncio.ensure_future(self._score(uploads))
        gone = asyncio.ensure_future(_client_gone(receive))
        remaining = self.settings.timeout_s - (time.perf_counter() - started)
        done, _ = await asyncio.wait(
            (work, gone), timeout=max(0.0, remaining), return_when=asyncio.FIRST_COMPLETED
        )
        if work in done:
            gone.cancel()
            return work.result()
        work.cancel()
        if gone in done:
            raise ServeError(
                499, "client_disconnected", "the client closed the connection; its work was dropped"
            )
        gone.cancel()
        raise ServeError(
            504,
            "timeout",
            f"no result within {self.settings.timeout_s:g} s (--timeout_s); "
            "the server is overloaded or the model is slow",
        )

    async def _score(self, uploads: list[Upload]) -> tuple[list[Outcome], float]:
        images = [_Image(upload, error=upload.error) for upload in uploads]
        loop = asyncio.get_running_loop()
        decode_start = time.perf_counter()
        for image in images:
            if image.error is not None:
                continue
            if len(image.upload.data) <= INLINE_HEADER_BYTES:
                self._check_header(image)
            else:
                await loop.run_in_executor(self.decode_pool, self._check_header, image)
        total = sum(image.pixels for image in images)
        if total > self.settings.max_request_mp * MEGA:
            raise request_too_large(total, int(self.settings.max_request_mp * MEGA))
        if len(images) == 1:
            outcomes = [await self._score_one(images[0], loop, None)]
        else:
            one_at_a_time = asyncio.Lock()  # the request's images beyond the inline size, in order
            tasks = [asyncio.ensure_future(self._score_one(image, loop, one_at_a_time)) for image in images]
            try:
                outcomes = [await task for task in tasks]
            except BaseException:  # the request failed or went away as a whole: none of its images goes on
                for task in tasks:
                    task.cancel()
                raise
        return outcomes, (time.perf_counter() - decode_start) * 1000

    def _check_header(self, image: _Image) -> None:
        """Declared size within the per-image limits, else the image's error (nothing decoded)."""
        name = image.upload.name
        try:
            image.opened = open_image(image.upload.data, name, self.limits)
            width, height = displayed_size(image.opened, name)
        except ImageDecodeError as exc:
            image.error = decode_problem(exc)
            return
        image.pixels = width * height

    async def _score_one(
        self, image: _Image, loop: asyncio.AbstractEventLoop, one_at_a_time: asyncio.Lock | None
    ) -> Outcome:
        """Decode (small images inline, others on the pool under the pixel budget), then batch.

        ``one_at_a_time``: held from decoding until scored by each image beyond the inline size of one
        request, so no request holds more than one such decoded image at a time.
        """
        if image.error is not None:
            return image.error
        assert self.batcher is not None and image.opened is not None
        if image.pixels <= INLINE_DECODE_PIXELS and len(image.upload.data) <= INLINE_HEADER_BYTES:
            opened, image.opened = image.opened, None
            try:
                pixels = finish_decode(opened, image.upload.name, self.limits)
            except ImageDecodeError as exc:
                return decode_problem(exc)
            return await self._submit(pixels, None)
        if one_at_a_time is None:
            return await self._score_large(image, loop)
        try:
            await one_at_a_time.acquire()
        except asyncio.CancelledError:
            self.metrics.dropped.inc()  # its request went away while an earlier photo of it was scored
            raise
        try:
            return await self._score_large(image, loop)
        finally:
            one_at_a_time.release()

    async def _score_large(self, image: _Image, loop: asyncio.AbstractEventLoop) -> Outcome:
        """Under the pixel budget: decode on the pool, batch, release the pixels once scored or gone.

        The opened Pillow image is handed to the decode thread, and no frame here keeps a reference:
        once loaded it holds 4 bytes per pixel, which must be freed before the model runs.
        """
        assert self.batcher is not None
        try:
            await self.budget.acquire(image.pixels)
        except asyncio.CancelledError:
            self.metrics.dropped.inc()  # its request went away while it waited for the budget
            raise
        release = partial(self.budget.release, image.pixels)
        opened, image.opened = image.opened, None
        decoding = self.decode_pool.submit(finish_decode, opened, image.upload.name, self.limits)
        del opened
        submitted: asyncio.Future[Scored] | None = None
        try:
            with self.batcher.incoming(1):
                pixels = await asyncio.wrap_future(decoding, loop=loop)
            submitted = self._submit(pixels, release)  # the batcher releases the pixels from here on
            del pixels
            return await submitted
        except ImageDecodeError as exc:
            return decode_problem(exc)
        except asyncio.CancelledError:
            if submitted is None:
                self.metrics.dropped.inc()  # gone before its image was queued
            raise
        finally:
            if submitted is None and (decoding.cancel() or decoding.done()):
                release()
            elif submitted is None:  # gone mid-decode: the pixels are held until the decode thread lets go
                decoding.add_done_callback(lambda _: loop.call_soon_threadsafe(release))

    def _submit(self, pixels: np.ndarray, on_release: Callable[[], None] | None) -> asyncio.Future[Scored]:
        """Queue decoded pixels for a batch (the queue holds the only reference from here on)."""
        assert self.batcher is not None
        try:
            (future,) = self.batcher.submit([pixels], on_release)
        except QueueFull:
            raise _busy(self.batcher) from None
        return future


def _busy(batcher: MicroBatcher) -> ServeError:
    return ServeError(
        503,
        "overloaded",
        f"the request queue is full (queue_size {batcher.queue_size}); retry shortly",
        {"Retry-After": "1"},
    )
