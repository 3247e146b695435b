"""The local server started as a user starts it (``python -m devserver``), in a subprocess on a free loopback port:
for the contract tests and the load benchmark, which drive the real server over HTTP. Its TLS port is off unless
given, so that servers started side by side never contend for the server's default one (4443)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from devserver.dynamodb_local import ROOT, free_port

START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30
READY_LINE = "Press Ctrl-C"  # the banner's last line, printed once the socket listens (devserver/cli.py)


class ServerError(RuntimeError):
    """The server did not start or did not stop; the message holds its output."""


class ServerProcess:
    def __init__(
        self, data_dir: Path, *options: str, env: Mapping[str, str] | None = None, tls_port: int | None = 0
    ) -> None:
        """``env``: variables to set (``PATH`` too: a machine without Node or Java is a PATH without them).
        ``tls_port``: serve HTTPS and WSS there too (``tls_url``); 0 (the default) not at all; None: the server's
        default, as ``make run`` has it."""
        self.data_dir, self.options = data_dir, options
        self.env = {**os.environ, **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.tls_port = tls_port
        self.tls_url = f"https://localhost:{self.tls_port}/graphql"
        self.output: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    @property
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "devserver", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        tls = [] if self.tls_port is None else ["--tls-port", str(self.tls_port)]
        return [*command, *tls, *self.options]

    def start(self) -> ServerProcess:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own process group: a Ctrl-C meant for the caller reaches the server only through stop(), and a
            # server that will not stop can be killed together with the DynamoDB Local it started.
            start_new_session=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not any(line.startswith(READY_LINE) for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._stop_or_kill(signal.SIGINT)
                raise ServerError("the server did not start:\n" + self.log())
            time.sleep(0.05)
        return self

    def refused(self) -> tuple[int, str]:
        """Run a server that is expected not to start: its exit code and everything it printed."""
        finished = subprocess.run(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            check=False,
        )
        return finished.returncode, finished.stdout

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)

    def log(self) -> str:
        """Everything the server printed so far (banner, warnings, the traces of unexpected errors)."""
        return "".join(self.output)

    def banner(self, label: str) -> str:
        """The value printed after ``label:`` at start."""
        for line in self.output:
            if line.strip().startswith(f"{label}:"):
                return line.split(":", 1)[1].strip()
        raise ServerError(f"no {label!r} in the banner:\n{self.log()}")

    @property
    def api_key(self) -> str:
        return self.banner("API key").split()[0]

    @property
    def ca_certificate(self) -> Path:
        """The local CA that signed the TLS port's certificate (devserver/certificates.py), as printed at start."""
        return Path(self.banner("CA").split()[0])

    @property
    def dynamodb_local_endpoint(self) -> str:
        match = re.search(r"http://127\.0\.0\.1:\d+", self.banner("Storage"))
        if match is None:
            raise ServerError(f"no DynamoDB Local endpoint in {self.banner('Storage')!r}")
        return match.group()

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Stop it as Ctrl-C does (``signum`` to the server process alone); its exit code. A server that does not
        stop in time is killed with its process group (DynamoDB Local included) and ServerError is raised."""
        if self.process is None:
            raise ServerError("the server was never started")
        if not self._stop_or_kill(signum):
            raise ServerError("the server did not stop:\n" + self.log())
        return self.process.returncode

    def _stop_or_kill(self, signum: int) -> bool:
        """True when it stopped by itself (or had already), False when it had to be killed."""
        process = self.process
        if process is None or process.poll() is not None:
            return True
        process.send_signal(signum)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
            return True
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return False

    def processes_left(self) -> list[str]:
        """Command lines of every process still running that mentions this server's data folder (the server
        itself, DynamoDB Local's java)."""
        left = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(self.data_dir) in command and state != "Z":
                left.append(command)
        return left
