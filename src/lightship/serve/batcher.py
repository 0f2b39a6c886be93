"""Dynamic micro-batching: concurrent requests share one model call.

Why: a CPU model runs a batch of 32 small images in little more time than one, so grouping requests
multiplies throughput under load while adding at most ``max_wait`` latency when idle. Design:

- one collector task on the event loop; requests append to a bounded queue (full -> :class:`QueueFull`,
  which the routes answer with 503 + Retry-After, so overload sheds load instead of growing memory);
- a batch closes when ``max_batch`` images wait, when ``max_wait`` has passed since its *oldest* image
  arrived (images that queued up during the previous model call go out at once), or when no request is
  being read or decoded (:meth:`MicroBatcher.incoming`): then nothing is about to join, and waiting would
  only add latency; a lone request is answered without any batching delay;
- the model runs on ``parallel`` worker threads, each one batch at a time: 1 for runtimes whose loaded
  model serves one call at a time, or, for ONNX Runtime (whose sessions take concurrent calls), one per
  core with a single intra-op thread each. Measured on 2 cores (docs/serving.md): two single-threaded
  calls cost ~20% less CPU per image than one call on two intra-op threads, whose small convolutions
  parallelise poorly; while every model thread is busy, arriving images wait and form larger batches;
- images are grouped by size and each size is one call: the artifact resizes inside, the server never does;
- an image whose request timed out or whose client went away (its future is cancelled) is dropped when
  the batch forms and again on the model thread just before its group runs, so the model never computes
  for a client that is gone (``lightship_images_dropped_total`` counts them).
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
    on_release: Callable[[], None] | None = None

    def release(self) -> None:
        """The batcher is done with the image (scored, dropped or failed): its memory can be counted free."""
        if self.on_release is not None:
            self.on_release()
            self.on_release = None


class MicroBatcher:
    """Groups submitted images into model calls of up to ``max_batch`` images per size."""

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        metrics: ServeMetrics,
        max_batch: int,
        max_wait_ms: float,
        queue_size: int,
        parallel: int = 1,
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
        self._executor = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="lightship-model")
        self._slots = asyncio.Semaphore(parallel)
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="lightship-batcher")

    async def stop(self) -> None:
        """Finish every queued image, then stop (called after the server has drained its requests)."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        await asyncio.gather(*self._running)
        self._executor.shutdown(wait=True)

    async def call(self, fn: Callable[[], np.ndarray]) -> np.ndarray:
        """Run ``fn`` on a model thread (warm-up)."""
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

    def submit(
        self, images: list[np.ndarray], on_release: Callable[[], None] | None = None
    ) -> list[asyncio.Future[Scored]]:
        """Queue all of ``images`` or none of them (QueueFull), so a batch request is never half-served.

        ``on_release`` is called (on the event loop) for each image once the batcher is done with it:
        after its model call, or when it is dropped because its request went away.
        """
        if self._closing or not self.has_room(len(images)):
            raise QueueFull(f"{len(self._queue)} images are waiting (queue_size {self.queue_size})")
        loop = asyncio.get_running_loop()
        was_idle = not self._queue
        now = loop.time()
        futures = []
        for image in images:
            future: asyncio.Future[Scored] = loop.create_future()
            self._queue.append(_Pending(image, future, now, on_release))
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
            await self._slots.acquire()  # a model thread is free; images keep queueing until then
            batch = self._take()
            if not batch:
                self._slots.release()
                continue
            task = loop.create_task(self._dispatch(batch, loop))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slots.release()

    def _take(self) -> list[_Pending]:
        """Up to ``max_batch`` images, dropping those whose request is already gone (cancelled)."""
        batch: list[_Pending] = []
        while self._queue and len(batch) < self.max_batch:
            item = self._queue.popleft()
            if item.future.done():
                self._metrics.dropped.inc()
                item.release()
            else:
                batch.append(item)
        self._metrics.queue_depth.set(len(self._queue))
        return batch

    async def _dispatch(self, batch: list[_Pending], loop: asyncio.AbstractEventLoop) -> None:
        groups: dict[tuple[int, ...], list[_Pending]] = {}
        for item in batch:
            groups.setdefault(item.image.shape, []).append(item)
        started = loop.time()
        try:
            outcomes = await loop.run_in_executor(self._executor, self._run_groups, list(groups.values()))
        except Exception as exc:  # the model failed on a batch: fail its requests, keep serving
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        finally:
            for item in batch:
                item.release()
        for group, probs, seconds in outcomes:
            self._metrics.batch_size.observe(len(group))
            self._metrics.inference.observe(seconds)
            for item, row in zip(group, probs, strict=True):
                if not item.future.done():
                    item.future.set_result(
                        Scored(row, (started - item.enqueued) * 1000, seconds * 1000, len(group))
                    )

    def _run_groups(self, groups: list[list[_Pending]]) -> list[tuple[list[_Pending], np.ndarray, float]]:
        """On the model thread: stack and run each same-size group, timing each call.

        Images whose request went away while an earlier group ran are left out (reading ``done()`` from
        this thread is a plain attribute read; at worst one image is computed for nothing).
        """
        outcomes = []
        for pending in groups:
            group = [item for item in pending if not item.future.done()]
            if len(group) < len(pending):
                self._metrics.dropped.inc(len(pending) - len(group))
            if not group:
                continue
            start = time.perf_counter()
            # A lone image goes in as a view: stacking would copy it (150 MB for a 50 MP photo).
            images = group[0].image[None] if len(group) == 1 else np.stack([item.image for item in group])
            probs = self._run(images)
            outcomes.append((group, probs, time.perf_counter() - start))
        return outcomes
