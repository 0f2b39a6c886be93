"""Dynamic micro-batching: concurrent requests share one model call.

Why: a CPU model runs a batch of 32 small images in little more time than one, so grouping requests
multiplies throughput under load while adding at most ``max_wait`` latency when idle. Design:

- one collector task on the event loop; requests append to a bounded queue (full -> :class:`QueueFull`,
  which the routes answer with 503 + Retry-After, so overload sheds load instead of growing memory);
- a batch closes when ``max_batch`` images wait, when ``max_wait`` has passed since its *oldest* image
  arrived (images that queued up during the previous model call go out at once), or when no request is
  being read or decoded (:meth:`MicroBatcher.incoming`): then nothing is about to join, and waiting would
  only add latency; a lone request is answered without any batching delay;
- the model runs on ONE worker thread per process: the runtime's own intra-op threads already use the
  cores, and a second concurrent call would only oversubscribe them;
- images are grouped by size and each size is one call: the artifact resizes inside, the server never does.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from lightship.serve.metrics import ServeMetrics


class QueueFull(Exception):
    """The queue has no room for the request's images; try again shortly."""


@dataclass(frozen=True)
class Scored:
    """One image's probabilities and where its time went."""

    probs: np.ndarray
    queue_ms: float
    inference_ms: float
    batch_size: int


@dataclass
class _Pending:
    image: np.ndarray
    future: asyncio.Future[Scored]
    enqueued: float


class MicroBatcher:
    """Groups submitted images into model calls of up to ``max_batch`` images per size."""

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        metrics: ServeMetrics,
        max_batch: int,
        max_wait_ms: float,
        queue_size: int,
    ) -> None:
        self._run = run
        self._metrics = metrics
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.queue_size = queue_size
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._incoming = 0
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lightship-model")

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="lightship-batcher")

    async def stop(self) -> None:
        """Finish every queued image, then stop (called after the server has drained its requests)."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def call(self, fn: Callable[[], np.ndarray]) -> np.ndarray:
        """Run ``fn`` on the model thread (warm-up), serialised with the batches."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    @contextmanager
    def incoming(self, count: int) -> Iterator[None]:
        """Mark ``count`` images as on their way (being decoded), so the open batch waits for them."""
        self._incoming += count
        try:
            yield
        finally:
            self._incoming -= count
            if self._incoming == 0:
                self._wakeup.set()

    def has_room(self, count: int) -> bool:
        return len(self._queue) + count <= self.queue_size

    def submit(self, images: list[np.ndarray]) -> list[asyncio.Future[Scored]]:
        """Queue all of ``images`` or none of them (QueueFull), so a batch request is never half-served."""
        if self._closing or not self.has_room(len(images)):
            raise QueueFull(f"{len(self._queue)} images are waiting (queue_size {self.queue_size})")
        loop = asyncio.get_running_loop()
        was_idle = not self._queue
        now = loop.time()
        futures = []
        for image in images:
            future: asyncio.Future[Scored] = loop.create_future()
            self._queue.append(_Pending(image, future, now))
            futures.append(future)
        self._metrics.queue_depth.set(len(self._queue))
        if was_idle or len(self._queue) >= self.max_batch:
            self._wakeup.set()  # only these two events change what the collector waits for
        return futures

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            deadline = self._queue[0].enqueued + self.max_wait_s
            while len(self._queue) < self.max_batch and self._incoming > 0 and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), remaining)
                except asyncio.TimeoutError:
                    break
            batch = self._take()
            if batch:
                await self._dispatch(batch, loop)

    def _take(self) -> list[_Pending]:
        """Up to ``max_batch`` images, skipping those whose request already timed out (cancelled)."""
        batch: list[_Pending] = []
        while self._queue and len(batch) < self.max_batch:
            item = self._queue.popleft()
            if not item.future.done():
                batch.append(item)
        self._metrics.queue_depth.set(len(self._queue))
        return batch

    async def _dispatch(self, batch: list[_Pending], loop: asyncio.AbstractEventLoop) -> None:
        groups: dict[tuple[int, ...], list[_Pending]] = {}
        for item in batch:
            groups.setdefault(item.image.shape, []).append(item)
        started = loop.time()
        arrays = [[item.image for item in group] for group in groups.values()]
        try:
            outcomes = await loop.run_in_executor(self._executor, self._run_groups, arrays)
        except Exception as exc:  # the model failed on a batch: fail its requests, keep serving
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for group, (probs, seconds) in zip(groups.values(), outcomes, strict=True):
            self._metrics.batch_size.observe(len(group))
            self._metrics.inference.observe(seconds)
            for item, row in zip(group, probs, strict=True):
                if not item.future.done():
                    item.future.set_result(
                        Scored(row, (started - item.enqueued) * 1000, seconds * 1000, len(group))
                    )

    def _run_groups(self, groups: list[list[np.ndarray]]) -> list[tuple[np.ndarray, float]]:
        """On the model thread: stack and run each same-size group, timing each call."""
        outcomes = []
        for images in groups:
            start = time.perf_counter()
            probs = self._run(np.stack(images))
            outcomes.append((probs, time.perf_counter() - start))
        return outcomes
