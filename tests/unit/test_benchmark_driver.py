"""The thread harness the load and contention benchmarks share (benchmarks/driver.py): every client runs in a thread
of its own until the deadline, is closed when it stops, and a crash fails the run instead of vanishing."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from benchmarks.driver import Turn, drive
from benchmarks.outcomes import Outcome, Sample

SECONDS = 0.05


def counting_clients(
    turn: Callable[[int], list[Sample]], closed: list[int]
) -> Callable[[int], AbstractContextManager[Turn]]:
    """Clients whose turns are ``turn(number)``, each adding its number to ``closed`` when it is closed."""

    @contextlib.contextmanager
    def client(number: int) -> Iterator[Turn]:
        try:
            yield lambda: turn(number)
        finally:
            closed.append(number)

    return client


def test_every_client_takes_its_turns_in_a_thread_of_its_own_and_is_closed_after() -> None:
    closed: list[int] = []
    found: list[str] = []

    def turn(number: int) -> list[Sample]:
        return [(f"op{number}", Outcome(0.0, data=threading.current_thread().name))]

    _, samples = drive("unit", 3, SECONDS, counting_clients(turn, closed), found.append)

    assert found == []
    assert sorted(closed) == [0, 1, 2]
    assert {(operation, outcome.data) for operation, outcome in samples} == {
        ("op0", "unit-client-0"),
        ("op1", "unit-client-1"),
        ("op2", "unit-client-2"),
    }


def test_a_crashed_client_is_a_violation_and_is_closed_all_the_same() -> None:
    closed: list[int] = []
    found: list[str] = []

    def turn(number: int) -> list[Sample]:
        if number == 1:
            raise RuntimeError("boom")
        return [("op", Outcome(0.0))]

    _, samples = drive("unit", 2, SECONDS, counting_clients(turn, closed), found.append)

    assert found == ["unit client 1 crashed: RuntimeError('boom')"]
    assert sorted(closed) == [0, 1]
    assert samples and all(operation == "op" for operation, _ in samples)
