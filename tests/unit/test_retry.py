"""The retry loop of optimistic writes (inventory/retry.py): when it retries at once, when it pauses, and how long."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from inventory import retry
from inventory.repository import Stale, StaleItems
from inventory.retry import MAX_SPREAD_SECONDS, TooMuchContention, retry_on_stale

ATTEMPT_SECONDS = 0.1  # what each attempt takes by the fake clock


@pytest.fixture(autouse=True)
def _longest_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every jittered pause is its upper bound, so that the bounds themselves are asserted."""
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: high)


def losing(times: int, signal: Callable[[], Stale]) -> Callable[[], str]:
    """A write that loses ``times`` races, then succeeds."""
    left = [times]

    def write() -> str:
        if left[0]:
            left[0] -= 1
            raise signal()
        return "written"

    return write


def lost_race() -> Stale:
    return StaleItems({"item-1": None})  # storage said what is current: the service decides again at once


def bare_conflict() -> Stale:
    return StaleItems({})


def clock(step: float = ATTEMPT_SECONDS) -> Callable[[], float]:
    ticks: Iterator[float] = (n * step for n in range(1_000_000))
    return lambda: next(ticks)


def run(write: Callable[[], str], learned: bool, step: float = ATTEMPT_SECONDS, attempts: int = 10) -> list[float]:
    pauses: list[float] = []
    assert retry_on_stale(write, lambda stale: learned, attempts, pauses.append, "test", clock=clock(step)) == "written"
    return pauses


def test_a_first_lost_race_is_retried_at_once_on_the_fresh_state() -> None:
    assert run(losing(1, lost_race), learned=True) == []


def test_further_lost_races_in_a_row_wait_longer_each_time_in_attempts_time() -> None:
    pauses = run(losing(4, lost_race), learned=True)
    # up to 2^attempt times what the lost attempt took, from the second attempt on
    assert pauses == pytest.approx([ATTEMPT_SECONDS * 2**attempt for attempt in (1, 2, 3)])


def test_a_hot_item_pause_is_capped_in_attempts_and_in_seconds() -> None:
    assert run(losing(8, lost_race), learned=True, step=0.001)[-1] == pytest.approx(0.001 * retry.MAX_SPREAD_ATTEMPTS)
    assert max(run(losing(3, lost_race), learned=True, step=10.0)) == MAX_SPREAD_SECONDS


def test_a_bare_conflict_backs_off_from_the_first_attempt_whatever_an_attempt_takes() -> None:
    assert run(losing(3, bare_conflict), learned=False, step=10.0) == pytest.approx([0.005, 0.01, 0.02])


def test_writes_that_keep_losing_give_up_after_max_attempts() -> None:
    with pytest.raises(TooMuchContention):
        run(losing(10, lost_race), learned=True, attempts=10)
