"""``python -m benchmarks.load``: the load test of ``make bench`` (see benchmarks/load/__init__.py). Exit status 0 when
it passed, 1 when it failed (an InternalError, a transport error, an unexpected errorType, an invariant violation,
or a process left running), 2 on wrong arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks.load.report import print_report, verdict
from benchmarks.load.run import LoadSettings, run_load
from benchmarks.signals import unwind_on_termination
from benchmarks.tables import plural


def parse_settings(argv: Sequence[str] | None) -> LoadSettings:
    defaults = LoadSettings()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description="Concurrent clients of mixed reads and writes against the local server on DynamoDB Local, "
        "then an invariant check of the stock through the API.",
    )
    parser.add_argument("--clients", type=int, default=defaults.clients, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds of load (default 30)")
    parser.add_argument("--items", type=int, default=defaults.items, help="items in the catalogue (default 24)")
    parser.add_argument("--hot-items", type=int, default=defaults.hot_items, help="of which low on stock (default 4)")
    parser.add_argument("--seed", type=int, default=None, help="the clients' random choices (default: random)")
    parser.add_argument("--memory", action="store_true", help="run the server on --memory (moto), not DynamoDB Local")
    arguments = parser.parse_args(argv)
    try:
        return LoadSettings(
            arguments.clients,
            arguments.duration,
            arguments.items,
            arguments.hot_items,
            arguments.seed,
            arguments.memory,
        )
    except ValueError as error:
        parser.error(str(error))


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    # A termination unwinds like Ctrl-C, so that the server and DynamoDB Local are stopped whichever way this ends.
    unwind_on_termination()
    storage = "--memory (moto)" if settings.memory else "DynamoDB Local"
    print(
        f"Load test: the local server on {storage}, {plural(settings.clients, 'client')} for {settings.duration:g} s",
        flush=True,
    )
    report = run_load(settings)
    result = verdict(report)
    print_report(report, result)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
