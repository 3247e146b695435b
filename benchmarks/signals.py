"""Termination for the benchmarks that start processes (DynamoDB Local, the local server)."""

from __future__ import annotations

import signal
from types import FrameType


def unwind_on_termination() -> None:
    """A SIGTERM or SIGHUP unwinds like Ctrl-C (SystemExit 128 + the signal), so that every ``with`` and ``finally``
    runs and what the run started is stopped whichever way it ends."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
