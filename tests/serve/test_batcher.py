"""The batcher on a model function it can hold: an image whose request is gone is never computed."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from lightship.serve.batcher import MicroBatcher
from lightship.serve.metrics import ServeMetrics


def test_cancelled_images_are_dropped_and_released() -> None:
    gate = threading.Event()
    seen: list[int] = []

    def run(images: np.ndarray) -> np.ndarray:
        gate.wait(10)
        seen.append(int(images[0, 0, 0, 0]))
        return np.full((len(images), 3), 1 / 3, np.float32)

    async def scenario() -> tuple[list[str], float]:
        metrics = ServeMetrics()
        batcher = MicroBatcher(run, metrics, max_batch=1, max_wait_ms=0.0, queue_size=8)
        batcher.start()
        released: list[str] = []
        first = batcher.submit([np.full((4, 4, 3), 1, np.uint8)], lambda: released.append("first"))[0]
        await asyncio.sleep(0.05)  # the first image is on the model thread, held at the gate
        second = batcher.submit([np.full((4, 4, 3), 2, np.uint8)], lambda: released.append("second"))[0]
        third = batcher.submit([np.full((4, 4, 3), 3, np.uint8)], lambda: released.append("third"))[0]
        second.cancel()  # its request timed out or its client hung up
        gate.set()
        await first
        await third
        await batcher.stop()
        return released, metrics.dropped._value.get()

    released, dropped = asyncio.run(scenario())
    assert seen == [1, 3]
    assert sorted(released) == ["first", "second", "third"]
    assert dropped == 1
