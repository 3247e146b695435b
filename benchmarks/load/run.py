"""One load run: start the local server on DynamoDB Local in a temporary folder, create the catalogue, let the
clients run for the set time, read every item and its movements back through the API, check the invariants, and
stop the server (and DynamoDB Local with it) whatever happens."""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.driver import Turn, drive
from benchmarks.load.client import GraphQLClient
from benchmarks.load.invariants import ItemState, violations
from benchmarks.load.ledger import Ledger
from benchmarks.load.workload import ITEM_MOVEMENTS, CatalogueItem, LoadError, Workload, create_catalogue
from benchmarks.outcomes import Outcome, Sample
from devserver.launcher import ServerError, ServerProcess

MAX_CLIENTS = 256
MAX_DURATION_SECONDS = 600.0
MAX_MOVEMENT_PAGES = 1_000  # per item, in the final check: far more than a run can write, yet a bound


@dataclass(frozen=True)
class LoadSettings:
    clients: int = 32
    duration: float = 30.0  # seconds
    items: int = 24
    hot_items: int = 4
    seed: int | None = None  # the clients' choices; random when None
    memory: bool = False  # the server's --memory storage (moto) instead of DynamoDB Local

    def __post_init__(self) -> None:
        if not 1 <= self.clients <= MAX_CLIENTS:
            raise ValueError(f"clients must be 1 to {MAX_CLIENTS}")
        if not 0 < self.duration <= MAX_DURATION_SECONDS:
            raise ValueError(f"duration must be above 0 and at most {MAX_DURATION_SECONDS:g} seconds")
        if not 1 <= self.hot_items < self.items <= 100:
            raise ValueError("items must be 2 to 100, hot items at least 1 and fewer than items")


@dataclass
class LoadReport:
    settings: LoadSettings
    seed: int
    seconds: float = 0.0  # the timed phase
    samples: list[Sample] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    items_checked: int = 0
    movements_checked: int = 0
    violations: list[str] = field(default_factory=list)
    server_log: str = ""
    processes_left: list[str] = field(default_factory=list)
    failure: str | None = None  # why the run stopped short, if it did
    load_average: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average as the load began, ended


def run_load(settings: LoadSettings) -> LoadReport:
    """One run; a server that does not start or a run that cannot go on is reported as ``failure``."""
    seed = settings.seed if settings.seed is not None else secrets.randbits(32)
    report = LoadReport(settings, seed)
    with tempfile.TemporaryDirectory(prefix="inventory-load-") as data_dir:
        server = ServerProcess(Path(data_dir), *(["--memory"] if settings.memory else []))
        try:
            server.start()
            _run(server, settings, report)
        except (ServerError, LoadError) as error:
            report.failure = str(error)
        finally:
            try:
                server.stop()
            except ServerError as error:  # it was killed, DynamoDB Local with it
                report.failure = report.failure or str(error)
            report.server_log = server.log()
            report.processes_left = server.processes_left()
    return report


def _run(server: ServerProcess, settings: LoadSettings, report: LoadReport) -> None:
    with contextlib.closing(GraphQLClient(server.url, server.api_key)) as setup:
        catalogue = create_catalogue(setup, f"{report.seed:08x}", settings.items, settings.hot_items)
    began = os.getloadavg()[0]
    report.seconds, report.samples = _drive(server, settings, catalogue, report.ledger, report.seed)
    report.load_average = (began, os.getloadavg()[0])
    report.violations = list(report.ledger.violations)  # kept if the reading back below stops short
    # A connection of its own: the server closes keep-alive connections left idle as long as the load runs.
    with contextlib.closing(GraphQLClient(server.url, server.api_key)) as reader:
        states = [_read_back(reader, item) for item in catalogue]
    report.items_checked = len(states)
    report.movements_checked = sum(len(state.movements) for state in states)
    report.violations = violations(states, report.ledger)


def _drive(
    server: ServerProcess, settings: LoadSettings, catalogue: Sequence[CatalogueItem], ledger: Ledger, seed: int
) -> tuple[float, list[Sample]]:
    """Each client with an HTTP connection of its own, closed when its thread stops."""

    @contextlib.contextmanager
    def client(number: int) -> Iterator[Turn]:
        with contextlib.closing(GraphQLClient(server.url, server.api_key)) as http:
            workload = Workload(http, catalogue, ledger, f"{seed:08x}-c{number}", random.Random(seed * 1000 + number))
            yield lambda: (workload.next(),)

    return drive("load", settings.clients, settings.duration, client, ledger.violation)


def _read_back(client: GraphQLClient, item: CatalogueItem) -> ItemState:
    """The item and all its movements (newest first from the API), walking the pages; returned oldest first."""
    movements, token, quantity, version = [], None, 0, 0
    for _ in range(MAX_MOVEMENT_PAGES):
        outcome: Outcome = client.execute(ITEM_MOVEMENTS, {"id": item.id, "nextToken": token}, "getItem")
        if not outcome.ok or outcome.data is None:
            raise LoadError(f"reading item {item.id} back failed: {outcome.error_type} {outcome.detail}")
        if token is None:  # no writes run any more: the first page's figures hold for every page
            quantity, version = outcome.data["quantity"], outcome.data["version"]
        page = outcome.data["movements"]
        movements += page["items"]
        token = page["nextToken"]
        if token is None:
            return ItemState(item.id, item.initial, quantity, version, movements[::-1])
    raise LoadError(f"item {item.id} has more than {MAX_MOVEMENT_PAGES} pages of movements")
