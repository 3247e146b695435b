"""``python -m benchmarks.contention``: the contention benchmark of ``make bench`` (see benchmarks/contention/
__init__.py). Exit status 0 when it passed, 1 when it failed (an InternalError, an unexpected errorType or an
invariant violation), 2 on wrong arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks.contention.report import print_report, verdict
from benchmarks.contention.run import ContentionSettings, run_contention
from benchmarks.signals import unwind_on_termination
from benchmarks.tables import plural


def parse_settings(argv: Sequence[str] | None) -> ContentionSettings:
    defaults = ContentionSettings()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.contention",
        description="Concurrent clients reserving, committing, releasing and ordering one item through the Lambda "
        "handlers on DynamoDB Local, then an invariant check through the API.",
    )
    parser.add_argument("--clients", type=int, default=defaults.clients, help="client threads (default 16)")
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="seconds of load (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="the clients' random choices (default: random)")
    arguments = parser.parse_args(argv)
    try:
        return ContentionSettings(arguments.clients, arguments.seconds, arguments.seed)
    except ValueError as error:
        parser.error(str(error))


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    # A termination unwinds like Ctrl-C, so that DynamoDB Local is stopped whichever way this ends.
    unwind_on_termination()
    print(f"Contention: {plural(settings.clients, 'client')} on one item for {settings.seconds:g} s", flush=True)
    report = run_contention(settings)
    result = verdict(report)
    print_report(report, result)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
