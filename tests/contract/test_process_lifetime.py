"""DynamoDB Local lives exactly as long as the local server, whichever way the server ends."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.contract.server import ServerProcess

# How long the java process may take to go after the server did: a bound on the wait, not an expected duration.
LEFTOVER_WAIT_SECONDS = 30


def _left_after_wait(server: ServerProcess) -> list[str]:
    deadline = time.monotonic() + LEFTOVER_WAIT_SECONDS
    while (left := server.processes_left()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP, signal.SIGTERM])
def test_dynamodb_local_does_not_outlive_the_server(tmp_path: Path, signum: signal.Signals) -> None:
    server = ServerProcess(tmp_path / "local-data").start()
    assert any("DynamoDBLocal.jar" in command for command in server.processes_left())
    exit_code = server.stop(signum)
    assert _left_after_wait(server) == []  # neither the server nor DynamoDB Local's java
    if signum != signal.SIGKILL:  # a signal it can catch: a graceful stop, DynamoDB Local stopped in turn
        assert exit_code == 128 + signum
        assert server.output[-1] == "Stopped.\n"
