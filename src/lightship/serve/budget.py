"""The decoded-pixel budget: how many decoded pixels one server process holds at a time.

Why: the upload limit bounds bytes, not pixels. A 200 KB PNG can declare 64 megapixels, and decoding it
then running the artifact (which casts the whole image to float before resizing) costs about 18 bytes
per pixel. Every image acquires its declared pixels here before it is decoded and releases them once the
model has scored it (or its request is gone), so the pixels in flight stay under the budget whatever the
concurrency. An image larger than the whole budget waits until nothing else is held and then runs alone,
so a large photo is never decoded while another is held. Waiters are served first come, first served:
small images cannot starve a large one, and a request's images are admitted in order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class PixelBudget:
    """An asyncio weighted semaphore over pixels, FIFO, where an oversized request takes it all."""

    def __init__(self, capacity: int, on_change: Callable[[int], None] | None = None) -> None:
        self.capacity = capacity
        self.used = 0
        self._on_change = on_change  # told the pixels held after every change (a metrics gauge)
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    def _hold(self, pixels: int) -> None:
        self.used += pixels
        if self._on_change is not None:
            self._on_change(self.used)

    def _fits(self, pixels: int) -> bool:
        return self.used == 0 or self.used + pixels <= self.capacity

    async def acquire(self, pixels: int) -> None:
        if not self._waiters and self._fits(pixels):
            self._hold(pixels)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((pixels, granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # granted just before the cancellation
                self._hold(-pixels)
            self._grant()  # the waiter behind may fit now
            raise

    def release(self, pixels: int) -> None:
        self._hold(-pixels)
        self._grant()

    def _grant(self) -> None:
        while self._waiters:
            pixels, granted = self._waiters[0]
            if granted.done():  # its request was cancelled while waiting
                self._waiters.popleft()
                continue
            if not self._fits(pixels):
                return
            self._waiters.popleft()
            self._hold(pixels)
            granted.set_result(None)
