"""The local server's hold timers: what makes a reservation's end heard here, as the holds queue does on AWS.

Each reservation written ACTIVE reaches the table's stream; devserver/stream.py hands its timer (inventory.expiry.
timer_of) to :class:`HoldTimers`, which waits in the server's event loop until the reservation's end, then runs
``InventoryService.expire_reservation`` in a thread. Its write, if any, comes back through the stream and is
published like any change. An expiry that fails is tried again after 1 s, 2 s, 4 s..., EXPIRY_ATTEMPTS times in all
(as the holds queue delivers a failing message on AWS), then given up on with an error logged. Timers live in
memory: those of reservations made before the server started are not known (the stream is read from its end), and
a restart forgets the pending ones. Reads are exact regardless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from inventory.expiry import EXPIRY_ATTEMPTS, HoldTimer, delay_seconds

logger = logging.getLogger("devserver.timers")

Expire = Callable[[str], object]  # InventoryService.expire_reservation
Sleep = Callable[[float], Awaitable[None]]

# The wait before the first retry of a failed expiry, doubled before each next one: a DynamoDB Local that is
# restarting or busy gets some seconds to come back (1 + 2 + 4 + 8 s before the fifth and last attempt).
FIRST_RETRY_SECONDS = 1.0


def retry_seconds(failed_attempts: int) -> float:
    """The wait before the next attempt, after ``failed_attempts`` (1, 2, ...) failed: 1 s, 2 s, 4 s..."""
    return FIRST_RETRY_SECONDS * 2.0 ** (failed_attempts - 1)


def now_ms() -> int:
    return int(time.time() * 1000)


class HoldTimers:
    """Timers in the running event loop, one per reservation and end; :meth:`cancel` drops the pending ones."""

    def __init__(self, expire: Expire, clock_ms: Callable[[], int] = now_ms, sleep: Sleep = asyncio.sleep) -> None:
        self._expire, self._clock_ms, self._sleep = expire, clock_ms, sleep
        self._waiting: dict[HoldTimer, asyncio.TimerHandle] = {}
        self._running: dict[HoldTimer, asyncio.Task[None]] = {}  # expiring, or waiting to try again

    def start(self, timer: HoldTimer) -> None:
        """Wait until ``timer`` is due; a timer already waiting or expiring (a record read again) is not started
        twice."""
        if timer not in self._waiting and timer not in self._running:
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
        self._running[timer] = task
        task.add_done_callback(lambda _: self._running.pop(timer, None))

    async def _run(self, timer: HoldTimer) -> None:
        # Retrying is safe: an expiry is idempotent (a second one writes nothing).
        for attempt in range(1, EXPIRY_ATTEMPTS + 1):
            try:
                await asyncio.to_thread(self._expire, timer.reservation_id)
                return
            except Exception as error:  # the server goes on; the reservation's figures are exact anyway
                if attempt == EXPIRY_ATTEMPTS:
                    logger.exception(
                        "expiring the reservation %s failed %d times: given up, its end is not heard",
                        timer.reservation_id,
                        attempt,
                    )
                    return
                wait = retry_seconds(attempt)
                logger.warning(
                    "expiring the reservation %s failed (attempt %d of %d: %r); trying again in %g s",
                    timer.reservation_id,
                    attempt,
                    EXPIRY_ATTEMPTS,
                    error,
                    wait,
                )
            await self._sleep(wait)

    @property
    def pending(self) -> int:
        """Timers waiting or running."""
        return len(self._waiting) + len(self._running)

    async def cancel(self) -> None:
        for handle in self._waiting.values():
            handle.cancel()
        self._waiting.clear()
        running = list(self._running.values())
        for task in running:  # a back-off's wait ends at once: the retries left are dropped too
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
