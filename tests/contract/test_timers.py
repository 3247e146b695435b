"""The local server's hold timers (devserver/timers.py) and how its stream reader starts them (devserver/stream.py):
a reservation written ACTIVE is expired once, at its end by the wall clock, off the event loop; a failed expiry is
tried again after growing waits, then given up on with an error logged, and the server goes on. The expiry itself is
a fake that records its calls (the real one: test_expiry_events.py); the waits between attempts are recorded by an
injected sleep, not waited."""

from __future__ import annotations

import asyncio
import copy
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from devserver.stream import deliver
from devserver.timers import HoldTimers, now_ms
from inventory.events import Event, EventKind
from inventory.expiry import EXPIRY_ATTEMPTS, HoldTimer
from tests.contract.test_stream import _movement_record, _OneBatch
from tests.unit.test_expiry import COMMITTED, RESERVED

WAIT_SECONDS = 10  # a bound for what should happen within milliseconds


ALWAYS = sys.maxsize  # failures of an expiry that never succeeds


class Expiries:
    """A fake expire_reservation: records each call and the thread it ran on; the first ``failures[id]`` calls for an
    id raise."""

    def __init__(self, failures: Mapping[str, int] | None = None) -> None:
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self._failures_left = dict(failures or {})
        self._called = threading.Condition()

    def __call__(self, reservation_id: str) -> tuple[()]:
        with self._called:
            self.calls.append(reservation_id)
            self.threads.add(threading.get_ident())
            self._called.notify_all()
            failing = self._failures_left.get(reservation_id, 0) > 0
            if failing:
                self._failures_left[reservation_id] -= 1
        if failing:
            raise RuntimeError("DynamoDB is away")
        return ()

    async def until(self, count: int) -> None:
        for _ in range(WAIT_SECONDS * 100):
            if len(self.calls) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} expiries, got {self.calls}")


def reserved(ends_ms: int, reservation_id: str = "cart-1") -> dict[str, Any]:
    """DynamoDB Local's record of a reservation written ACTIVE, ending at ``ends_ms``."""
    record = copy.deepcopy(RESERVED)
    record["dynamodb"]["NewImage"]["expiresAtMs"] = {"N": str(ends_ms)}
    record["dynamodb"]["NewImage"]["id"] = {"S": reservation_id}
    return record


class Waits:
    """An injected sleep: records each wait asked for and returns at once (``blocking``: never returns, until
    cancelled), and tells when the first one started."""

    def __init__(self, blocking: bool = False) -> None:
        self.seconds: list[float] = []
        self.blocking = blocking
        self.started = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.started.set()
        if self.blocking:
            await asyncio.Event().wait()
        await asyncio.sleep(0)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(WAIT_SECONDS * 100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def test_a_reservation_read_from_the_stream_is_expired_once_at_its_end_off_the_loop() -> None:
    expiries = Expiries()
    published: list[Event] = []

    async def publish(event: Event) -> None:
        published.append(event)

    async def run() -> None:
        timers = HoldTimers(expiries)
        record = reserved(now_ms() + 50)
        # The record read twice (a replay), and the commit of another reservation, start one timer between them.
        stream = _OneBatch([record, _movement_record("m-1"), copy.deepcopy(record), COMMITTED])
        task = asyncio.create_task(deliver(stream, publish, timers, poll_seconds=0.001))
        await expiries.until(1)
        await _until(lambda: timers.pending == 0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await timers.cancel()

    asyncio.run(run())
    assert expiries.calls == ["cart-1"]
    assert threading.get_ident() not in expiries.threads  # the loop went on serving meanwhile
    assert [(event.kind, event.detail["id"]) for event in published] == [(EventKind.STOCK_MOVEMENT, "m-1")]


def test_a_timer_the_loop_fires_before_the_wall_clock_reaches_its_end_waits_again() -> None:
    expiries = Expiries()
    wall = [1_000_000]
    readings: list[int] = []

    def clock() -> int:
        readings.append(wall[0])
        return wall[0]

    async def run() -> None:
        timers = HoldTimers(expiries, clock)
        timers.start(HoldTimer("cart-1", wall[0] + 10))
        await _until(lambda: len(readings) >= 4)  # started, then fired early three times by the loop's clock
        assert expiries.calls == []
        wall[0] += 10  # the wall clock reaches the end
        await expiries.until(1)
        await timers.cancel()

    asyncio.run(run())
    assert expiries.calls == ["cart-1"]


def test_a_failed_expiry_is_tried_again_after_growing_waits_until_it_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    expiries = Expiries({"cart-1": 2})
    waits = Waits()

    async def run() -> None:
        timers = HoldTimers(expiries, sleep=waits)
        timers.start(HoldTimer("cart-1", now_ms()))
        await expiries.until(3)
        await _until(lambda: timers.pending == 0)

    with caplog.at_level(logging.WARNING, logger="devserver.timers"):
        asyncio.run(run())
    assert expiries.calls == ["cart-1"] * 3
    assert waits.seconds == [1.0, 2.0]
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (
            logging.WARNING,
            "expiring the reservation cart-1 failed (attempt 1 of 5: RuntimeError('DynamoDB is away')); "
            "trying again in 1 s",
        ),
        (
            logging.WARNING,
            "expiring the reservation cart-1 failed (attempt 2 of 5: RuntimeError('DynamoDB is away')); "
            "trying again in 2 s",
        ),
    ]


def test_an_expiry_that_keeps_failing_is_given_up_after_the_attempts_and_the_other_timers_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    expiries = Expiries({"bad": ALWAYS})
    waits = Waits()

    async def run() -> None:
        timers = HoldTimers(expiries, sleep=waits)
        timers.start(HoldTimer("bad", now_ms()))
        timers.start(HoldTimer("good", now_ms() + 20))
        await expiries.until(EXPIRY_ATTEMPTS + 1)
        await _until(lambda: timers.pending == 0)

    with caplog.at_level(logging.WARNING, logger="devserver.timers"):
        asyncio.run(run())
    assert sorted(expiries.calls) == ["bad"] * 5 + ["good"]
    assert waits.seconds == [1.0, 2.0, 4.0, 8.0]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.getMessage() for record in errors] == [
        "expiring the reservation bad failed 5 times: given up, its end is not heard"
    ]
    assert errors[0].exc_info is not None  # the last failure's traceback
    assert len(caplog.records) == 5  # and a warning for each attempt retried


def test_stopping_during_the_wait_before_a_retry_drops_the_retries_left() -> None:
    expiries = Expiries({"cart-1": ALWAYS})
    waits = Waits(blocking=True)  # a retry would wait for ever: only a cancellation ends the wait

    async def run() -> None:
        timers = HoldTimers(expiries, sleep=waits)
        timer = HoldTimer("cart-1", now_ms())
        timers.start(timer)
        await asyncio.wait_for(waits.started.wait(), WAIT_SECONDS)
        timers.start(timer)  # the record read again while its timer waits to retry: not started twice
        assert timers.pending == 1
        await asyncio.wait_for(timers.cancel(), WAIT_SECONDS)
        assert timers.pending == 0
        await asyncio.sleep(0.05)  # a retry, were one left, would now be on its way

    asyncio.run(run())
    assert expiries.calls == ["cart-1"]
    assert waits.seconds == [1.0]


def test_stopping_drops_the_timers_still_waiting() -> None:
    expiries = Expiries()

    async def run() -> None:
        timers = HoldTimers(expiries)
        timers.start(HoldTimer("cart-1", now_ms() + 3_600_000))
        assert timers.pending == 1
        await timers.cancel()
        assert timers.pending == 0

    asyncio.run(run())
    assert expiries.calls == []
