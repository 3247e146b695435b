"""The local server's hold timers: what makes a reservation's end heard here, as the holds queue does on AWS.

Each reservation written ACTIVE reaches the table's stream; devserver/stream.py hands its timer (inventory.expiry.
timer_of) to :class:`HoldTimers`, which waits in the server's event loop until the reservation's end, then runs
``InventoryService.expire_reservation`` in a thread. Its write, if any, comes back through the stream and is
published like any change. Timers live in memory: those of reservations made before the server started are not
known (the stream is read from its end), and a restart forgets the pending ones. Reads are exact regardless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from inventory.expiry import HoldTimer, delay_seconds

logger = logging.getLogger("devserver.timers")

Expire = Callable[[str], object]  # InventoryService.expire_reservation


def now_ms() -> int:
    return int(time.time() * 1000)


class HoldTimers:
    """Timers in the running event loop, one per reservation and end; :meth:`cancel` drops the pending ones."""

    def __init__(self, expire: Expire, clock_ms: Callable[[], int] = now_ms) -> None:
        self._expire, self._clock_ms = expire, clock_ms
        self._waiting: dict[HoldTimer, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()

    def start(self, timer: HoldTimer) -> None:
        """Wait until ``timer`` is due; a timer already waiting (a record read again) is not started twice."""
        if timer not in self._waiting:
            self._wait(timer)

    def _wait(self, timer: HoldTimer) -> None:
        # To the millisecond, not SQS's whole seconds: nothing here bounds the delay.
        delay = max(0, timer.ends_ms - self._clock_ms()) / 1000
        self._waiting[timer] = asyncio.get_running_loop().call_later(delay, self._due, timer)

    def _due(self, timer: HoldTimer) -> None:
        if delay_seconds(timer, self._clock_ms()) > 0:  # the loop's monotonic clock ran ahead of the wall clock
            self._wait(timer)
            return
        del self._waiting[timer]
        task = asyncio.create_task(self._run(timer))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, timer: HoldTimer) -> None:
        try:
            await asyncio.to_thread(self._expire, timer.reservation_id)
        except Exception:  # the server goes on; the reservation's figures are exact anyway, only unheard
            logger.exception("expiring the reservation %s failed: its end is not heard", timer.reservation_id)

    @property
    def pending(self) -> int:
        """Timers waiting or running."""
        return len(self._waiting) + len(self._running)

    async def cancel(self) -> None:
        for handle in self._waiting.values():
            handle.cancel()
        self._waiting.clear()
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
