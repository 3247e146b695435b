"""The one retry loop of optimistic writes: try, and on a lost race try again on what storage said is current, or
after a short jittered pause when it said nothing; give up after a bounded number of attempts."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from inventory.repository import Stale

T = TypeVar("T")


class TooMuchContention(RuntimeError):
    """Optimistic writes kept losing races; reaches clients as InternalError (retryable)."""


def back_off(attempt: int, sleep: Callable[[float], None]) -> None:
    """A growing, jittered wait (capped at 0.2 s), so that racing writers spread out rather than collide again."""
    sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def retry_on_stale(
    write: Callable[[], T],
    refresh: Callable[[Stale], bool],
    max_attempts: int,
    sleep: Callable[[float], None],
    what: str,
) -> T:
    """``write()`` until it returns. When it raises Stale, ``refresh`` takes in what storage said is current and says
    whether it learned anything; if not (a bare transaction conflict), back off before the next attempt."""
    for attempt in range(max_attempts):
        try:
            return write()
        except Stale as stale:
            if not refresh(stale):
                back_off(attempt, sleep)
    raise TooMuchContention(what)
