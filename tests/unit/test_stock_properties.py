"""The stock invariant, property-based: random sequences of creates, adjustments, orders, replays, deletes,
reservations (reserve, commit, release, and holds expiring as a controlled clock moves), transfers and counts across
two locations, run on moto and checked against a small model after every step.

Per item, always: quantity = the sum of its levels' onHand; at each location onHand >= reserved (available never
< 0), and onHand = the deltas of its movements there; sequences run 1, 2, 3... with no gap; each quantityAfter (and
locationQuantityAfter) is the running sum. Each idempotencyKey (adjustStock, transferStock and setStock share them),
orderId and reservationId is applied once (a replay with the same input returns the first result, with other input it
is IdempotencyConflict and writes nothing); every refused request writes nothing.

v1 requests (createItem, adjustStock, fulfillOrder, deleteItem) go through inventory.operations, as clients send
them; v2 requests call the service with their commands (the GraphQL edge for them is wired separately).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory import model as domain
from inventory import operations
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import IdempotencyConflict, InsufficientStock, ItemNotFound, ValidationError
from inventory.model import (
    INBOUND_REASONS,
    MAIN_LOCATION_ID,
    OUTBOUND_REASONS,
    TRANSFER_REASONS,
    CountLine,
    CreateLocation,
    MovementReason,
    OrderLine,
    Reservation,
    ReservationStatus,
    ReserveStock,
    SetStock,
    TransferStock,
)
from inventory.service import InventoryService
from inventory.table import ensure_table
from tests.conftest import TEST_SECRET
from tests.unit.conftest import Clock

# The reasons adjustStock accepts (transfer movements are transferStock's alone).
REASONS = [reason.value for reason in MovementReason if reason not in TRANSFER_REASONS]
tables = itertools.count()


@dataclass
class ModelItem:
    id: str
    moves: list[tuple[str, int]] = field(default_factory=list)  # (location id, delta) of every movement, in order
    deleted: bool = False

    @property
    def quantity(self) -> int:
        return sum(delta for _, delta in self.moves)

    def on_hand(self, location_id: str) -> int:
        return sum(delta for at, delta in self.moves if at == location_id)


@dataclass
class ModelReservation:
    command: ReserveStock
    current: Reservation  # as stored now

    def holds(self, item_id: str, location_id: str, now_ms: int) -> int:
        if self.current.status_at(now_ms) is not ReservationStatus.ACTIVE or location_id != self.command.location_id:
            return 0
        return sum(line.quantity for line in self.command.lines if line.item_id == item_id)


@dataclass(frozen=True)
class Applied:
    """A request that changed stock: its input (what a replay must match) and the answer it got."""

    request: Any
    answer: Any


class StockMachine(RuleBasedStateMachine):
    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = client
        self.table = f"inventory-properties-{next(tables)}"
        ensure_table(client, self.table)
        self.clock = Clock()
        self.service = InventoryService(
            DynamoDBInventoryRepository(client, self.table),
            Settings(table_name=self.table, page_token_secret=TEST_SECRET.encode()),
            clock=self.clock,
        )
        self.items: list[ModelItem] = []
        self.locations = [MAIN_LOCATION_ID]
        self.adjustments: dict[str, Applied] = {}  # every stock key: adjustStock, transferStock, setStock
        self.orders: dict[str, Applied] = {}
        self.reservations: dict[str, ModelReservation] = {}
        self.keys = itertools.count()

    def records(self) -> list[dict[str, Any]]:
        response = self.client.scan(TableName=self.table, ConsistentRead=True)
        assert "LastEvaluatedKey" not in response
        return sorted(response["Items"], key=lambda record: (record["pk"]["S"], record["sk"]["S"]))

    def refused(self, expected: type[Exception], call: Callable[[], object]) -> Any:
        before = self.records()
        with pytest.raises(expected) as caught:
            call()
        assert self.records() == before, f"a refused request ({expected.__name__}) wrote"
        return caught.value

    def now(self) -> int:
        return self.service.now().ms

    def model(self, item_id: str) -> ModelItem:
        return next(model for model in self.items if model.id == item_id)

    def reserved(self, item_id: str, location_id: str) -> int:
        now = self.now()
        return sum(reservation.holds(item_id, location_id, now) for reservation in self.reservations.values())

    def available(self, item_id: str, location_id: str) -> int:
        return self.model(item_id).on_hand(location_id) - self.reserved(item_id, location_id)

    def draw_lines(self, data: st.DataObject, high: int = 4) -> list[tuple[ModelItem, int]]:
        """One or two lines, mostly of items that exist (a deleted one now and then: ItemNotFound)."""
        live = [model for model in self.items if not model.deleted]
        pool = self.items if data.draw(st.integers(0, 4), label="any item") == 0 else live
        chosen = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique_by=lambda m: m.id))
        return [(model, data.draw(st.integers(1, high), label="quantity")) for model in chosen]

    def draw_key(self, data: st.DataObject, replay: bool) -> str:
        if replay and self.adjustments:
            return data.draw(st.sampled_from(sorted(self.adjustments)), label="replayed key")
        return f"key-{next(self.keys)}"

    # Rules: v1, through the GraphQL edge's operations

    @initialize()
    def first_items_and_a_second_location(self) -> None:
        self.create(5)
        self.create(20)
        self.locations.append(self.service.create_location(CreateLocation("WH", "Warehouse")).id)

    @rule(quantity=st.integers(0, 20))
    def create(self, quantity: int) -> None:
        sku = f"SKU-{len(self.items)}"
        item = operations.create_item(
            self.service,
            {"input": {"sku": sku, "name": "Widget", "category": "tools", "price": 1, "quantity": quantity}},
        )
        assert item["quantity"] == quantity
        self.items.append(ModelItem(item["id"], [(MAIN_LOCATION_ID, quantity)] if quantity else []))

    @rule(
        data=st.data(), delta=st.integers(-25, 25).filter(bool), reason=st.sampled_from(REASONS), replay=st.booleans()
    )
    def adjust(self, data: st.DataObject, delta: int, reason: str, replay: bool) -> None:
        key = self.draw_key(data, replay)
        same = key in self.adjustments and data.draw(st.booleans(), label="same input")
        if same and isinstance(self.adjustments[key].request, dict):
            request = self.adjustments[key].request
            delta, reason, item_id = request["delta"], request["reason"], request["itemId"]
        else:
            item_id = data.draw(st.sampled_from(self.items), label="item").id
        request = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": key}
        call = lambda: operations.adjust_stock(self.service, {"input": request})  # noqa: E731
        item = self.model(item_id)

        sign_breaks_reason = (MovementReason(reason) in INBOUND_REASONS and delta < 0) or (
            MovementReason(reason) in OUTBOUND_REASONS and delta > 0
        )
        if sign_breaks_reason:
            self.refused(ValidationError, call)
        elif key in self.adjustments:
            applied = self.adjustments[key]
            if applied.request == request:
                assert call() == applied.answer  # the first result, even if stock changed since
            else:
                self.refused(IdempotencyConflict, call)
        elif item.deleted:
            self.refused(ItemNotFound, call)
        elif delta < 0 and -delta > self.available(item_id, MAIN_LOCATION_ID):
            self.refused(InsufficientStock, call)
        else:
            movement = call()
            assert (movement["delta"], movement["quantityAfter"]) == (delta, item.quantity + delta)
            item.moves.append((MAIN_LOCATION_ID, delta))
            self.adjustments[key] = Applied(request, movement)

    @rule(data=st.data(), replay=st.booleans())
    def order(self, data: st.DataObject, replay: bool) -> None:
        if replay and self.orders:
            order_id = data.draw(st.sampled_from(sorted(self.orders)), label="replayed orderId")
            same = data.draw(st.booleans(), label="same input")
        else:
            order_id, same = f"order-{next(self.keys)}", False
        if same:
            lines = self.orders[order_id].request
        else:
            lines = [{"itemId": model.id, "quantity": quantity} for model, quantity in self.draw_lines(data, 12)]
        call = lambda: operations.fulfill_order(self.service, {"input": {"orderId": order_id, "lines": lines}})  # noqa: E731

        def fingerprint(order_lines: list[dict[str, Any]]) -> list[tuple[str, int]]:
            return sorted((line["itemId"], line["quantity"]) for line in order_lines)

        if order_id in self.orders:
            applied = self.orders[order_id]
            if fingerprint(applied.request) == fingerprint(lines):
                assert call() == applied.answer
            else:
                self.refused(IdempotencyConflict, call)
        elif any(self.model(line["itemId"]).deleted for line in lines):
            self.refused(ItemNotFound, call)
        elif any(self.available(line["itemId"], MAIN_LOCATION_ID) < line["quantity"] for line in lines):
            self.refused(InsufficientStock, call)
        else:
            result = call()
            assert [(m["itemId"], m["delta"]) for m in result["movements"]] == [
                (line["itemId"], -line["quantity"]) for line in lines
            ]
            for line in lines:
                self.model(line["itemId"]).moves.append((MAIN_LOCATION_ID, -line["quantity"]))
            self.orders[order_id] = Applied(lines, result)

    @precondition(lambda self: sum(not model.deleted for model in self.items) > 1)  # keep some stock to work on
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from([model for model in self.items if not model.deleted]), label="deleted")
        reserved = sum(self.reserved(item.id, location) for location in self.locations)
        if reserved:
            error = self.refused(domain.ItemReserved, lambda: self.service.delete_item(item.id))
            assert error.reserved == reserved
            return
        deleted = operations.delete_item(self.service, {"id": item.id})
        assert deleted is not None and deleted["quantity"] == item.quantity
        item.deleted = True
        assert operations.delete_item(self.service, {"id": item.id}) is None

    # Rules: v2, through the service

    @rule(milliseconds=st.integers(0, 1500))
    def tick(self, milliseconds: int) -> None:
        self.clock.now += timedelta(milliseconds=milliseconds)

    def active(self) -> list[ModelReservation]:
        now = self.now()
        return [r for r in self.reservations.values() if r.current.status_at(now) is ReservationStatus.ACTIVE]

    @precondition(lambda self: self.active())
    @rule(data=st.data(), offset=st.sampled_from([-1, 0]))
    def tick_to_an_expiry(self, data: st.DataObject, offset: int) -> None:
        """To the last millisecond of an active hold, or its end: where exactness shows."""
        ends = data.draw(st.sampled_from(sorted(r.current.ends_ms for r in self.active())), label="hold ends")
        self.clock.now += timedelta(milliseconds=max(0, ends + offset - self.now()))

    @rule(data=st.data(), replay=st.booleans(), seconds=st.integers(1, 2))
    def reserve(self, data: st.DataObject, replay: bool, seconds: int) -> None:
        if replay and self.reservations:
            reservation_id = data.draw(st.sampled_from(sorted(self.reservations)), label="replayed reservationId")
        else:
            reservation_id = f"reservation-{next(self.keys)}"
        if reservation_id in self.reservations and data.draw(st.booleans(), label="same input"):
            command = self.reservations[reservation_id].command
            command = command._replace(lines=command.lines[::-1])  # the same lines in another order
        else:
            location = data.draw(st.sampled_from(self.locations), label="location")
            lines = tuple(OrderLine(model.id, quantity) for model, quantity in self.draw_lines(data))
            command = ReserveStock(reservation_id, lines, location, seconds)
        call = lambda: self.service.reserve_stock(command)  # noqa: E731

        if reservation_id in self.reservations:
            known = self.reservations[reservation_id]
            if known.command.fingerprint == command.fingerprint:
                before = self.records()
                assert call() == known.current  # as it is now, holding nothing more
                assert self.records() == before
            else:
                self.refused(domain.IdempotencyConflict, call)
        elif any(self.model(line.item_id).deleted for line in command.lines):
            self.refused(domain.ItemNotFound, call)
        elif any(self.available(line.item_id, command.location_id) < line.quantity for line in command.lines):
            self.refused(domain.InsufficientStock, call)
        else:
            reservation = call()
            assert (reservation.state, reservation.lines) == (ReservationStatus.ACTIVE, command.lines)
            assert reservation.ends_ms == self.now() + seconds * 1000
            self.reservations[reservation_id] = ModelReservation(command, reservation)

    @precondition(lambda self: self.reservations)
    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        known = self.reservations[data.draw(st.sampled_from(sorted(self.reservations)), label="committed")]
        call = lambda: self.service.commit_reservation(known.current.id)  # noqa: E731
        status = known.current.status_at(self.now())
        if status is ReservationStatus.COMMITTED:
            before = self.records()
            assert call() == known.current
            assert self.records() == before
        elif status is not ReservationStatus.ACTIVE:
            assert self.refused(domain.ReservationNotActive, call).status is status
        else:
            committed = call()
            lines = known.command.lines
            assert committed.state is ReservationStatus.COMMITTED
            assert [(m.item_id, m.delta, m.reason, m.reference, m.location_id) for m in committed.movements] == [
                (line.item_id, -line.quantity, MovementReason.SOLD, known.current.id, known.command.location_id)
                for line in lines
            ]
            for line in lines:
                self.model(line.item_id).moves.append((known.command.location_id, -line.quantity))
            known.current = committed

    @precondition(lambda self: self.reservations)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        known = self.reservations[data.draw(st.sampled_from(sorted(self.reservations)), label="released")]
        call = lambda: self.service.release_reservation(known.current.id)  # noqa: E731
        status = known.current.status_at(self.now())
        if status is ReservationStatus.COMMITTED:
            assert self.refused(domain.ReservationNotActive, call).status is status
        elif status is not ReservationStatus.ACTIVE:
            before = self.records()
            assert call() == known.current  # released or expired: unchanged
            assert self.records() == before
        else:
            released = call()
            assert released == known.current._replace(state=ReservationStatus.RELEASED)
            known.current = released

    @rule(data=st.data(), replay=st.booleans())
    def transfer(self, data: st.DataObject, replay: bool) -> None:
        key = self.draw_key(data, replay)
        same = key in self.adjustments and data.draw(st.booleans(), label="same input")
        if same and isinstance(self.adjustments[key].request, TransferStock):
            command = self.adjustments[key].request
        else:
            source, destination = data.draw(st.permutations(self.locations), label="from, to")
            lines = tuple(OrderLine(model.id, quantity) for model, quantity in self.draw_lines(data))
            command = TransferStock(key, source, destination, lines)
        call = lambda: self.service.transfer_stock(command)  # noqa: E731

        if key in self.adjustments:
            applied = self.adjustments[key]
            if applied.request == command:
                assert call() == applied.answer
            else:
                self.refused(domain.IdempotencyConflict, call)
        elif any(self.model(line.item_id).deleted for line in command.lines):
            self.refused(domain.ItemNotFound, call)
        elif any(self.available(line.item_id, command.from_location_id) < line.quantity for line in command.lines):
            self.refused(domain.InsufficientStock, call)
        else:
            result = call()
            expected = []
            for line in command.lines:
                total = self.model(line.item_id).quantity
                expected += [
                    (line.item_id, MovementReason.TRANSFER_OUT, -line.quantity, total - line.quantity),
                    (line.item_id, MovementReason.TRANSFER_IN, line.quantity, total),
                ]
                self.model(line.item_id).moves += [
                    (command.from_location_id, -line.quantity),
                    (command.to_location_id, line.quantity),
                ]
            assert [(m.item_id, m.reason, m.delta, m.quantity_after) for m in result.movements] == expected
            self.adjustments[key] = Applied(command, result)

    @rule(data=st.data(), replay=st.booleans())
    def set_stock(self, data: st.DataObject, replay: bool) -> None:
        key = self.draw_key(data, replay)
        same = key in self.adjustments and data.draw(st.booleans(), label="same input")
        if same and isinstance(self.adjustments[key].request, SetStock):
            command = self.adjustments[key].request
        else:
            location = data.draw(st.sampled_from(self.locations), label="location")
            lines = []
            for model, _ in self.draw_lines(data):
                on_hand = data.draw(st.integers(0, 15), label="onHand")
                compare = data.draw(st.sampled_from([None, 0, 1]), label="compareOnHand off by")
                counted = None if compare is None else model.on_hand(location) + compare
                lines.append(CountLine(model.id, on_hand, counted))
            command = SetStock(key, tuple(lines), location)
        call = lambda: self.service.set_stock(command)  # noqa: E731
        location = command.location_id

        if key in self.adjustments:
            applied = self.adjustments[key]
            if applied.request == command:
                assert call() == applied.answer
            else:
                self.refused(domain.IdempotencyConflict, call)
        elif any(self.model(line.item_id).deleted for line in command.lines):
            self.refused(domain.ItemNotFound, call)
        elif mismatched := [
            domain.CountMismatch(line.item_id, line.compare_on_hand, self.model(line.item_id).on_hand(location))
            for line in command.lines
            if line.compare_on_hand not in (None, self.model(line.item_id).on_hand(location))
        ]:
            assert self.refused(domain.QuantityConflict, call).mismatches == tuple(mismatched)
        elif below := [
            index for index, line in enumerate(command.lines) if line.on_hand < self.reserved(line.item_id, location)
        ]:
            assert self.refused(domain.BelowReserved, call).line == below[0]
        else:
            movements = call()
            changed = [line for line in command.lines if line.on_hand != self.model(line.item_id).on_hand(location)]
            assert [(m.item_id, m.delta, m.location_quantity_after) for m in movements] == [
                (line.item_id, line.on_hand - self.model(line.item_id).on_hand(location), line.on_hand)
                for line in changed
            ]
            for line in changed:
                self.model(line.item_id).moves.append(
                    (location, line.on_hand - self.model(line.item_id).on_hand(location))
                )
            self.adjustments[key] = Applied(command, movements)

    # What must hold after every step

    @invariant()
    def stock_adds_up_at_every_location(self) -> None:
        now = self.now()
        for model in self.items:
            item = self.service.get_item(model.id)
            if model.deleted:
                assert item is None
                continue
            assert item is not None
            assert item.quantity == sum(level.on_hand for level in item.levels.values()) == model.quantity
            for level in item.levels.values():
                assert level.on_hand >= level.reserved_at(now), "more reserved than on hand"
            assert item.available_at(now) == item.quantity - item.reserved_at(now) >= 0
            figures = {(f.location_id, f.on_hand, f.reserved) for f in item.stock_levels(now)}
            expected = {
                (location, model.on_hand(location), self.reserved(model.id, location)) for location in self.locations
            }
            assert figures == {entry for entry in expected if entry[1] or entry[2]}
            movements = self.movements(model.id)
            assert [m.sequence for m in movements] == list(range(1, len(movements) + 1)), "a gap in the ledger"
            assert item.stock_revision == len(movements)
            for location in self.locations:
                at = sum(m.delta for m in movements if m.location_id == location)
                stored = item.levels.get(location)
                assert at == (0 if stored is None else stored.on_hand)

    def movements(self, item_id: str) -> list[domain.StockMovement]:
        """Every movement of the item, oldest first."""
        found: list[domain.StockMovement] = []
        token = None
        while True:
            page = self.service.list_movements(item_id, 100, token)
            found += page.items
            if (token := page.next_token) is None:
                return found[::-1]

    # What must hold at the end of every history (the rules check each answer as it comes)

    def teardown(self) -> None:
        try:
            for model in self.items:
                self.check_history(model)
        finally:
            self.client.delete_table(TableName=self.table)

    def check_history(self, model: ModelItem) -> None:
        """The item's movements are exactly the model's, each quantityAfter and locationQuantityAfter is the running
        sum and never negative, and the stored quantity is their sum (movements outlive a deleted item)."""
        page = operations.item_movements(self.service, {"id": model.id}, {"limit": 100})
        assert page["nextToken"] is None
        movements = list(reversed(page["items"]))  # oldest first
        assert [(m["locationId"], m["delta"]) for m in movements] == model.moves, "a movement is missing or extra"
        running, at = 0, dict.fromkeys(self.locations, 0)
        for movement in movements:
            running += movement["delta"]
            at[movement["locationId"]] += movement["delta"]
            assert movement["quantityAfter"] == running >= 0
            assert movement["locationQuantityAfter"] == at[movement["locationId"]] >= 0
        stored = operations.get_item(self.service, {"id": model.id})
        if model.deleted:
            assert stored is None
        else:
            assert stored is not None and stored["quantity"] == model.quantity == running


def test_random_histories_keep_the_stock_invariant(moto_dynamodb: Any) -> None:
    run_state_machine_as_test(
        lambda: StockMachine(moto_dynamodb),
        settings=settings(
            max_examples=6,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
