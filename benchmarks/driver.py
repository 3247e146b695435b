"""The clients of the load and contention benchmarks: one thread each, released together, each sending one request
after another until the deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from benchmarks.outcomes import Sample

JOIN_GRACE_SECONDS = 60.0  # past the deadline, for requests in flight
Turn = Callable[[], Iterable[Sample]]  # a client's next request (or requests), as samples


def drive(
    name: str,
    clients: int,
    seconds: float,
    client: Callable[[int], AbstractContextManager[Turn]],
    violation: Callable[[str], None],
) -> tuple[float, list[Sample]]:
    """``clients`` threads, each taking its turns from ``client(number)``, entered in its own thread (one client per
    thread: the clients need not be thread-safe) and exited when it stops. Returns how long the load ran (from the
    release to the last join) and every sample. A client that crashes, or is still waiting for an answer long after the
    deadline, is a ``violation``: it fails the run instead of vanishing silently."""
    start = threading.Barrier(clients + 1, timeout=JOIN_GRACE_SECONDS)
    deadline = [0.0]
    per_client: list[list[Sample]] = [[] for _ in range(clients)]

    def run(number: int) -> None:
        with client(number) as turn:
            try:
                start.wait()
                # At least one turn each, however late a thread is released: a slow machine still measures (and a
                # crashing client still shows) every client.
                per_client[number] += turn()
                while time.monotonic() < deadline[0]:
                    per_client[number] += turn()
            except Exception as error:  # noqa: BLE001 - reported as a violation, see above
                violation(f"{name} client {number} crashed: {error!r}")

    # Daemons, and the deadline moved to now on the way out: a Ctrl-C ends the run at once.
    threads = [threading.Thread(target=run, args=(n,), name=f"{name}-client-{n}", daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    try:
        start.wait()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline[0] - time.monotonic()) + JOIN_GRACE_SECONDS)
    finally:
        deadline[0] = 0.0
    elapsed = time.monotonic() - began
    if any(thread.is_alive() for thread in threads):
        violation("a client was still waiting for an answer long after the deadline")
    return elapsed, [sample for samples in per_client for sample in samples]
