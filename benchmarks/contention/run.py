"""One contention run: DynamoDB Local on a free port and a fresh table, the Lambda configuration pointed at it, the
item with stock at two locations, the clients for the set time, then the item, its movements and its reservations
read back and checked. DynamoDB Local is stopped and the environment restored whatever happens."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from benchmarks.contention.clients import Client, Container, Held, Json, Ledger, Receiver, Shopper
from benchmarks.contention.invariants import Final, Totals, totals, violations
from benchmarks.contention.meter import CallMeter
from benchmarks.driver import Turn, drive
from benchmarks.environment import FAKE_AWS, SERVICE_ENV
from benchmarks.outcomes import Sample
from devserver import dynamodb_local
from inventory.model import MAIN_LOCATION_ID
from inventory.table import ensure_table
from resolvers import runtime

MAX_CLIENTS = 64
MAX_SECONDS = 600.0
INITIAL_STOCK = 50  # at each location
MAX_MOVEMENT_PAGES = 10_000  # of 100, in the check: far more than a run can write, yet a bound


@dataclass(frozen=True)
class ContentionSettings:
    clients: int = 16  # one receives stock, the others buy
    seconds: float = 10.0
    seed: int | None = None  # the clients' choices; random when None

    def __post_init__(self) -> None:
        if not 2 <= self.clients <= MAX_CLIENTS:
            raise ValueError(f"clients must be 2 to {MAX_CLIENTS} (one of them receives stock)")
        if not 0 < self.seconds <= MAX_SECONDS:
            raise ValueError(f"seconds must be above 0 and at most {MAX_SECONDS:g}")


@dataclass
class ContentionReport:
    settings: ContentionSettings
    seed: int
    seconds: float = 0.0  # the timed phase
    samples: list[Sample] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    calls: Counter[str] = field(default_factory=Counter)  # DynamoDB calls by operation, in the timed phase
    attempts: Counter[str] = field(default_factory=Counter)  # TransactWriteItems calls by operation
    cancelled: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, why)
    final: Final | None = None
    totals: Totals | None = None
    violations: list[str] = field(default_factory=list)
    failure: str | None = None  # why the run stopped short, if it did
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-minute load average as the load began, ended


class ContentionError(RuntimeError):
    """The run cannot go on: the setup failed, or the item could not be read back."""


def run_contention(settings: ContentionSettings) -> ContentionReport:
    seed = settings.seed if settings.seed is not None else secrets.randbits(32)
    report = ContentionReport(settings, seed)
    with dynamodb_local.running() as endpoint, _lambda_environment(endpoint):
        meter = CallMeter(runtime.dynamodb_client())
        try:
            _run(meter, report)
        except ContentionError as error:
            report.failure = str(error)
        finally:
            meter.close()
    return report


@contextlib.contextmanager
def _lambda_environment(endpoint: str) -> Iterator[None]:
    """The Lambda configuration pointed at a fresh table on ``endpoint``, with fake credentials, and a new container
    (the runtime's caches cleared); everything as it was afterwards. Refusals (InsufficientStock) are expected by
    the thousand: the handlers' INFO log of each is silenced, their warnings and errors are not."""
    variables = {
        **FAKE_AWS,
        **SERVICE_ENV,
        "INVENTORY_TABLE_NAME": f"inventory-contention-{uuid.uuid4().hex[:8]}",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
    }
    saved = {name: os.environ.get(name) for name in variables}
    quiet = {name: logging.getLogger(name) for name in ("inventory", "urllib3.connectionpool")}
    levels = {name: logger.level for name, logger in quiet.items()}
    os.environ.update(variables)
    runtime.service.cache_clear()
    runtime.dynamodb_client.cache_clear()
    # More client threads than boto3's 10 pooled connections: the extra ones are opened and closed, with a warning.
    quiet["urllib3.connectionpool"].setLevel(logging.ERROR)
    quiet["inventory"].setLevel(logging.WARNING)
    try:
        ensure_table(runtime.dynamodb_client(), variables["INVENTORY_TABLE_NAME"])
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name, logger in quiet.items():
            logger.setLevel(levels[name])
        runtime.service.cache_clear()
        runtime.dynamodb_client.cache_clear()


def _run(meter: CallMeter, report: ContentionReport) -> None:
    setup = Container(meter)
    item, location_ids = _set_up(setup, report.ledger)
    meter.reset()  # the timed phase alone
    began = os.getloadavg()[0]
    report.seconds, report.samples = _drive(meter, report, item["id"], location_ids)
    report.load_average = (began, os.getloadavg()[0])
    report.calls, report.attempts = Counter(meter.calls), Counter(meter.attempts)
    report.cancelled = Counter(meter.cancelled)
    report.violations = list(report.ledger.violations)  # kept if the reading back below stops short
    report.final = _read_back(Container(meter), item, report.ledger)
    report.totals = totals(report.final, report.ledger)
    report.violations = violations(report.final, report.ledger)


def _set_up(container: Container, ledger: Ledger) -> tuple[Json, list[str]]:
    """A second location, and the item: INITIAL_STOCK at MAIN (createItem) and at the second (a receipt)."""
    shop = container.mutation("createLocation", input={"code": "SHOP", "name": "Shop"})
    item = container.mutation(
        "createItem",
        input={"sku": "HOT-1", "name": "The hot item", "category": "hot", "price": 1.0, "quantity": INITIAL_STOCK},
    )
    if not shop.ok or not item.ok:
        raise ContentionError(f"setup failed: {shop.detail or item.detail}")
    receiver = Client(container, ledger, item.data["id"], [], "setup", random.Random(0))
    _, receipt = receiver.receive("setup-receipt", Held(shop.data["id"], INITIAL_STOCK))
    if not receipt.ok:
        raise ContentionError(f"setup failed: {receipt.detail}")
    return item.data, [MAIN_LOCATION_ID, shop.data["id"]]


def _drive(
    meter: CallMeter, report: ContentionReport, item_id: str, location_ids: list[str]
) -> tuple[float, list[Sample]]:
    """Client 0 receives stock, the others buy; each plays a Lambda container of its own."""
    settings = report.settings

    def client(number: int) -> contextlib.nullcontext[Turn]:
        kind = Receiver if number == 0 else Shopper
        rng = random.Random(report.seed * 1000 + number)
        runner = kind(Container(meter), report.ledger, item_id, location_ids, f"{report.seed:08x}-c{number}", rng)
        return contextlib.nullcontext(runner.next)

    return drive("contention", settings.clients, settings.seconds, client, report.ledger.violation)


def _read_back(container: Container, item: Mapping[str, object], ledger: Ledger) -> Final:
    """The item, all its movements (page by page) and every reservation a client asked for."""
    read = container.query("getItem", id=item["id"])
    if not read.ok or read.data is None:
        raise ContentionError(f"reading the item back failed: {read.error_type} {read.detail}")
    movements: list[Json] = []
    token = None
    for _ in range(MAX_MOVEMENT_PAGES):
        page = container.movements(item, token)
        if not page.ok:
            raise ContentionError(f"reading the movements back failed: {page.error_type} {page.detail}")
        movements += page.data["items"]
        token = page.data["nextToken"]
        if token is None:
            break
    else:
        raise ContentionError(f"the item has more than {MAX_MOVEMENT_PAGES} pages of movements")
    reservations: dict[str, Json | None] = {}
    for reservation_id in {*ledger.reservations, *ledger.unsure_reservations}:
        answer = container.query("getReservation", id=reservation_id)
        if not answer.ok:
            raise ContentionError(f"reading reservation {reservation_id} failed: {answer.error_type} {answer.detail}")
        reservations[reservation_id] = answer.data
    return Final(read.data, movements, reservations)
