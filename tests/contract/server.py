"""The local server started as a user starts it (``python -m devserver``), in a subprocess on a free port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devserver.dynamodb_local import ROOT, free_port

START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30


class ServerProcess:
    def __init__(self, data_dir: Path, *options: str) -> None:
        self.data_dir, self.options = data_dir, options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.output: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> ServerProcess:
        command = [sys.executable, "-m", "devserver", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(
            [*command, *self.options],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not any(line.startswith("Press Ctrl-C") for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the server did not start:\n" + "".join(self.output))
            time.sleep(0.05)
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)

    def banner(self, label: str) -> str:
        """The value printed after ``label:`` at start."""
        for line in self.output:
            if line.strip().startswith(f"{label}:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError(f"no {label!r} in the banner:\n{''.join(self.output)}")

    @property
    def api_key(self) -> str:
        return self.banner("API key").split()[0]

    @property
    def dynamodb_local_endpoint(self) -> str:
        match = re.search(r"http://127\.0\.0\.1:\d+", self.banner("Storage"))
        assert match, self.banner("Storage")
        return match.group()

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Stop it as Ctrl-C does (SIGINT to the server process alone); its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("the server did not stop:\n" + "".join(self.output)) from None
        return self.process.returncode

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
