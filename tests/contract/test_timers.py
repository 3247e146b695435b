"""The local server's hold timers (devserver/timers.py) and how its stream reader starts them (devserver/stream.py):
a reservation written ACTIVE is expired once, at its end by the wall clock, off the event loop; failures are logged
and the server goes on. The expiry itself is a fake that records its calls (the real one: test_expiry_events.py)."""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from devserver.stream import deliver
from devserver.timers import HoldTimers, now_ms
from inventory.events import Event, EventKind
from inventory.expiry import HoldTimer
from tests.contract.test_stream import _movement_record, _OneBatch
from tests.unit.test_expiry import COMMITTED, RESERVED

WAIT_SECONDS = 10  # a bound for what should happen within milliseconds


class Expiries:
    """A fake expire_reservation: records each call and the thread it ran on; raises for the ids in ``failing``."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self.failing = failing
        self._called = threading.Condition()

    def __call__(self, reservation_id: str) -> tuple[()]:
        with self._called:
            self.calls.append(reservation_id)
            self.threads.add(threading.get_ident())
            self._called.notify_all()
        if reservation_id in self.failing:
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


def test_a_failed_expiry_is_logged_and_the_other_timers_still_run(caplog: pytest.LogCaptureFixture) -> None:
    expiries = Expiries(failing=frozenset({"bad"}))

    async def run() -> None:
        timers = HoldTimers(expiries)
        timers.start(HoldTimer("bad", now_ms()))
        timers.start(HoldTimer("good", now_ms() + 20))
        await expiries.until(2)
        await _until(lambda: timers.pending == 0)

    with caplog.at_level(logging.ERROR, logger="devserver.timers"):
        asyncio.run(run())
    assert expiries.calls == ["bad", "good"]
    assert [record.getMessage() for record in caplog.records] == [
        "expiring the reservation bad failed: its end is not heard"
    ]


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
