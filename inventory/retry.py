"""The one retry loop of optimistic writes: try, and on a lost race try again on what storage said is current, or
after a short jittered pause when it said nothing; give up after a bounded number of attempts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from inventory.repository import Stale

T = TypeVar("T")

# A hot item: how long a writer that keeps losing races pauses, at most, in attempts' time and in seconds. The
# seconds bind only when an attempt takes over 60 ms (an overloaded machine): DynamoDB answers in about 10-25 ms.
MAX_SPREAD_ATTEMPTS = 32
MAX_SPREAD_SECONDS = 2.0


class TooMuchContention(RuntimeError):
    """Optimistic writes kept losing races; reaches clients as InternalError (retryable)."""


def back_off(attempt: int, sleep: Callable[[float], None]) -> None:
    """A growing, jittered wait (capped at 0.2 s), so that racing writers spread out rather than collide again."""
    sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def spread_out(attempt: int, took: float, sleep: Callable[[float], None]) -> None:
    """A jittered wait of up to 2^attempt times what the lost attempt took: about as long as that many writers need to
    take their turns on the record, so that they stop landing together."""
    sleep(random.uniform(0, min(MAX_SPREAD_SECONDS, took * min(2**attempt, MAX_SPREAD_ATTEMPTS))))


def retry_on_stale(
    write: Callable[[], T],
    refresh: Callable[[Stale], bool],
    max_attempts: int,
    sleep: Callable[[float], None],
    what: str,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``write()`` until it returns. When it raises Stale, ``refresh`` takes in what storage said is current and says
    whether it learned anything; if not (a bare transaction conflict), back off before the next attempt.

    A first lost race is retried at once, on the fresh state. Losing again means other writers keep writing the same
    record (a hot item): retrying at once would land together with them again, so each further retry waits first
    (spread_out). Measured by the contention benchmark (docs/data-model.md, Hidden costs): with 16 writers on one
    item, transaction attempts per success fell from about 8 to about 5.
    """
    for attempt in range(max_attempts):
        started = clock()
        try:
            return write()
        except Stale as stale:
            if not refresh(stale):
                back_off(attempt, sleep)
            elif attempt > 0:
                spread_out(attempt, clock() - started, sleep)
    raise TooMuchContention(what)
