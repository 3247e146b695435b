"""The contention run's clients and the ledger of what they were told.

Each client thread plays one Lambda container: its own resolver apps, built from the same routers as the deployed
handlers (Powertools' AppSyncResolver keeps the event it is resolving on the app, so one app must never serve two
threads at once); the cached service and its boto3 client are shared (boto3 clients are thread-safe).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from appsync_events import FakeLambdaContext, batch_event, resolver_event
from benchmarks.contention.meter import CallMeter
from benchmarks.outcomes import Outcome, Sample
from resolvers import routers
from resolvers.runtime import build_app

Json = dict[str, Any]

CONTEXT = cast(LambdaContext, FakeLambdaContext(function_name="inventory-contention"))
# The refusals a correct API gives under this load; any other errorType fails the run.
EXPECTED_REFUSALS: dict[str, frozenset[str]] = {
    "reserveStock": frozenset({"InsufficientStock"}),
    "fulfillOrder": frozenset({"InsufficientStock"}),
}
CHECKOUT_SHARE = 0.6  # of a shopper's turns: reserve, then commit or release; the rest order directly
COMMIT_SHARE = 0.8  # of the reservations made: committed; the rest released
MAX_UNITS = 3  # per reservation or order
LOW_WATER, RESTOCK = 10, 30  # the receiver receives RESTOCK units at a location whose available falls below LOW_WATER
RECEIVER_PAUSE_SECONDS = 0.02  # between its looks at the item when nothing is low


class Container:
    """One Lambda container's handlers; every call through it is timed and metered under its field name."""

    def __init__(self, meter: CallMeter) -> None:
        self._meter = meter
        self._queries = build_app(routers.queries)
        self._mutations = build_app(routers.mutations)

    def query(self, field_name: str, **arguments: Any) -> Outcome:
        return self._call(self._queries, field_name, resolver_event("Query", field_name, arguments))

    def mutation(self, field_name: str, **arguments: Any) -> Outcome:
        return self._call(self._mutations, field_name, resolver_event("Mutation", field_name, arguments))

    def movements(self, item: Mapping[str, Any], next_token: str | None) -> Outcome:
        """One page of ``Item.movements`` (100, the most a page holds), newest first."""
        arguments = {"limit": 100, "nextToken": next_token}
        outcome = self._call(self._queries, "Item.movements", batch_event("Item", "movements", [item], arguments))
        return outcome if not outcome.ok else Outcome(outcome.seconds, data=outcome.data[0])

    def _call(self, app: Any, name: str, event: Any) -> Outcome:
        with self._meter.operation(name):
            start = time.perf_counter()
            answer = app.resolve(event, CONTEXT)
            seconds = time.perf_counter() - start
        if isinstance(event, list):
            failed = [entry for entry in answer if isinstance(entry, Mapping) and "error" in entry]
            answer = failed[0] if failed else answer
        if isinstance(answer, Mapping) and "error" in answer:
            error = answer["error"]
            return Outcome(seconds, error_type=error["type"], error_info=error["info"], detail=error["message"])
        return Outcome(seconds, data=answer)


class Held(NamedTuple):
    """Units asked of one location: a reservation's, an order's or a receipt's (one line each: one SKU)."""

    location_id: str
    units: int


@dataclass
class Ledger:
    """What the clients were told; shared by the threads, every method takes the lock. "Unsure": no clear answer
    (an InternalError, an unexpected error), so the request may or may not have been applied, but not half."""

    reservations: dict[str, Held] = field(default_factory=dict)  # reserveStock acknowledged
    told: dict[str, str] = field(default_factory=dict)  # reservation id -> the status its client was last told
    commits: dict[str, list[Json]] = field(default_factory=dict)  # reservation id -> the SOLD movements answered
    unsure_reservations: dict[str, Held] = field(default_factory=dict)  # reserve, commit or release without answer
    orders: dict[str, tuple[Held, list[Json]]] = field(default_factory=dict)
    refused_orders: dict[str, Held] = field(default_factory=dict)
    unsure_orders: dict[str, Held] = field(default_factory=dict)
    receipts: dict[str, tuple[Held, Json]] = field(default_factory=dict)  # idempotencyKey -> input, movement
    unsure_receipts: dict[str, Held] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)  # seen during the run
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserved(self, reservation_id: str, held: Held) -> None:
        with self._lock:
            self.reservations[reservation_id] = held
            self.told[reservation_id] = "ACTIVE"

    def committed(self, reservation_id: str, movements: list[Json]) -> None:
        with self._lock:
            self.told[reservation_id] = "COMMITTED"
            self.commits[reservation_id] = movements

    def released(self, reservation_id: str) -> None:
        with self._lock:
            self.told[reservation_id] = "RELEASED"

    def unsure_reservation(self, reservation_id: str, held: Held) -> None:
        with self._lock:
            self.unsure_reservations[reservation_id] = held

    def ordered(self, order_id: str, held: Held, movements: list[Json]) -> None:
        with self._lock:
            self.orders[order_id] = (held, movements)

    def refused_order(self, order_id: str, held: Held) -> None:
        with self._lock:
            self.refused_orders[order_id] = held

    def unsure_order(self, order_id: str, held: Held) -> None:
        with self._lock:
            self.unsure_orders[order_id] = held

    def received(self, key: str, held: Held, movement: Json) -> None:
        with self._lock:
            self.receipts[key] = (held, movement)

    def unsure_receipt(self, key: str, held: Held) -> None:
        with self._lock:
            self.unsure_receipts[key] = held

    def violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)


def refused(operation: str, outcome: Outcome) -> bool:
    """An expected refusal, which writes nothing."""
    return outcome.error_type in EXPECTED_REFUSALS.get(operation, frozenset())


@dataclass
class Client:
    """One client thread's requests on the one item; ``name`` makes its request ids unique in the run."""

    container: Container
    ledger: Ledger
    item_id: str
    location_ids: Sequence[str]
    name: str
    rng: random.Random
    turns: int = 0

    def _id(self, kind: str) -> str:
        self.turns += 1
        return f"{self.name}-{kind}{self.turns}"

    def receive(self, key: str, held: Held) -> Sample:
        adjustment = {
            "itemId": self.item_id,
            "locationId": held.location_id,
            "delta": held.units,
            "reason": "RECEIVED",
            "reference": key,
            "idempotencyKey": key,
        }
        outcome = self.container.mutation("adjustStock", input=adjustment)
        if outcome.ok:
            self.ledger.received(key, held, outcome.data)
        else:
            self.ledger.unsure_receipt(key, held)
        return "adjustStock", outcome


class Receiver(Client):
    """Looks at the item; receives stock at every location whose available ran low, else pauses a moment. Each look
    also checks, during the run, that no location holds more than it has."""

    def next(self) -> list[Sample]:
        look = self.container.query("getItem", id=self.item_id)
        samples: list[Sample] = [("getItem", look)]
        if not look.ok or look.data is None:
            self.ledger.violation(f"getItem during the run: {look.error_type or 'null'} {look.detail}")
            return samples
        levels = {level["locationId"]: level for level in look.data["levels"]}
        for level in levels.values():
            if not 0 <= level["reserved"] <= level["onHand"]:
                self.ledger.violation(f"during the run, {level['locationId']} held {level['reserved']} of {level}")
        low = [loc for loc in self.location_ids if levels.get(loc, {}).get("available", 0) < LOW_WATER]
        for location_id in low:
            samples.append(self.receive(self._id("receipt"), Held(location_id, RESTOCK)))
        if not low:
            time.sleep(RECEIVER_PAUSE_SECONDS)
        return samples


class Shopper(Client):
    """Checks out (reserve, then commit or release) or orders directly, a few units at a random location."""

    def next(self) -> list[Sample]:
        held = Held(self.rng.choice(self.location_ids), self.rng.randint(1, MAX_UNITS))
        if self.rng.random() < CHECKOUT_SHARE:
            return self.checkout(held)
        return [self.order(held)]

    def checkout(self, held: Held) -> list[Sample]:
        reservation_id = self._id("cart")
        line = {"itemId": self.item_id, "quantity": held.units}
        request = {"reservationId": reservation_id, "locationId": held.location_id, "lines": [line]}
        outcome = self.container.mutation("reserveStock", input=request)
        samples: list[Sample] = [("reserveStock", outcome)]
        if not outcome.ok:
            if not refused("reserveStock", outcome):
                self.ledger.unsure_reservation(reservation_id, held)
            return samples
        self.ledger.reserved(reservation_id, held)
        if self.rng.random() < COMMIT_SHARE:
            outcome = self.container.mutation("commitReservation", id=reservation_id)
            if outcome.ok and outcome.data["status"] == "COMMITTED":
                self.ledger.committed(reservation_id, outcome.data["movements"])
            samples.append(("commitReservation", outcome))
        else:
            outcome = self.container.mutation("releaseReservation", id=reservation_id)
            if outcome.ok and outcome.data["status"] == "RELEASED":
                self.ledger.released(reservation_id)
            samples.append(("releaseReservation", outcome))
        if not outcome.ok:
            self.ledger.unsure_reservation(reservation_id, held)
        elif outcome.data["status"] not in ("COMMITTED", "RELEASED"):
            self.ledger.violation(f"{samples[-1][0]} {reservation_id} answered {outcome.data}")
        return samples

    def order(self, held: Held) -> Sample:
        order_id = self._id("order")
        line = {"itemId": self.item_id, "quantity": held.units}
        outcome = self.container.mutation(
            "fulfillOrder", input={"orderId": order_id, "locationId": held.location_id, "lines": [line]}
        )
        if outcome.ok:
            self.ledger.ordered(order_id, held, outcome.data["movements"])
        elif refused("fulfillOrder", outcome):
            self.ledger.refused_order(order_id, held)
        else:
            self.ledger.unsure_order(order_id, held)
        return "fulfillOrder", outcome
