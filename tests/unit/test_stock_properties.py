"""The stock invariant, property-based: random sequences of creates, adjustments, orders, replays and deletes, run
through inventory.operations on moto and checked against a small model after every step.

Per item, always: quantity = initial stock + the deltas of its movements, never negative; each idempotencyKey and
orderId is applied once (a replay with the same input returns the first result, with other input it is
IdempotencyConflict and writes nothing); every refused request writes nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory import operations
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import IdempotencyConflict, InsufficientStock, InventoryError, ItemNotFound, ValidationError
from inventory.model import INBOUND_REASONS, OUTBOUND_REASONS, MovementReason
from inventory.service import InventoryService
from inventory.table import ensure_table
from tests.conftest import TEST_SECRET

REASONS = [reason.value for reason in MovementReason]
tables = itertools.count()


@dataclass
class ModelItem:
    id: str
    initial: int
    deltas: list[int] = field(default_factory=list)
    deleted: bool = False

    @property
    def quantity(self) -> int:
        return self.initial + sum(self.deltas)


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
        self.service = InventoryService(
            DynamoDBInventoryRepository(client, self.table),
            Settings(table_name=self.table, page_token_secret=TEST_SECRET.encode()),
        )
        self.items: list[ModelItem] = []
        self.adjustments: dict[str, Applied] = {}
        self.orders: dict[str, Applied] = {}
        self.keys = itertools.count()

    def records(self) -> list[dict[str, Any]]:
        response = self.client.scan(TableName=self.table, ConsistentRead=True)
        assert "LastEvaluatedKey" not in response
        return sorted(response["Items"], key=lambda record: (record["pk"]["S"], record["sk"]["S"]))

    def refused(self, expected: type[InventoryError], call: Any) -> None:
        before = self.records()
        with pytest.raises(expected):
            call()
        assert self.records() == before, f"a refused request ({expected.__name__}) wrote"

    # Rules

    @initialize()
    def first_item(self) -> None:
        self.create(5)

    @rule(quantity=st.integers(0, 20))
    def create(self, quantity: int) -> None:
        sku = f"SKU-{len(self.items)}"
        item = operations.create_item(
            self.service,
            {"input": {"sku": sku, "name": "Widget", "category": "tools", "price": 1, "quantity": quantity}},
        )
        assert item["quantity"] == quantity
        self.items.append(ModelItem(item["id"], quantity))

    @rule(
        data=st.data(), delta=st.integers(-25, 25).filter(bool), reason=st.sampled_from(REASONS), replay=st.booleans()
    )
    def adjust(self, data: st.DataObject, delta: int, reason: str, replay: bool) -> None:
        if replay and self.adjustments:
            key = data.draw(st.sampled_from(sorted(self.adjustments)), label="replayed key")
            if data.draw(st.booleans(), label="same input"):
                request = self.adjustments[key].request
                delta, reason, item_id = request["delta"], request["reason"], request["itemId"]
            else:
                item_id = data.draw(st.sampled_from(self.items), label="item").id
        else:
            key = f"key-{next(self.keys)}"
            item_id = data.draw(st.sampled_from(self.items), label="item").id
        request = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": key}
        call = lambda: operations.adjust_stock(self.service, {"input": request})  # noqa: E731
        item = next(model for model in self.items if model.id == item_id)

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
        elif item.quantity + delta < 0:
            self.refused(InsufficientStock, call)
        else:
            movement = call()
            assert (movement["delta"], movement["quantityAfter"]) == (delta, item.quantity + delta)
            item.deltas.append(delta)
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
            chosen = data.draw(st.lists(st.sampled_from(self.items), min_size=1, max_size=3, unique_by=lambda m: m.id))
            lines = [
                {"itemId": model.id, "quantity": data.draw(st.integers(1, 12), label="quantity")} for model in chosen
            ]
        call = lambda: operations.fulfill_order(self.service, {"input": {"orderId": order_id, "lines": lines}})  # noqa: E731
        models = {model.id: model for model in self.items}

        def fingerprint(order_lines: list[dict[str, Any]]) -> list[tuple[str, int]]:
            return sorted((line["itemId"], line["quantity"]) for line in order_lines)

        if order_id in self.orders:
            applied = self.orders[order_id]
            if fingerprint(applied.request) == fingerprint(lines):
                assert call() == applied.answer
            else:
                self.refused(IdempotencyConflict, call)
        elif any(models[line["itemId"]].deleted for line in lines):
            self.refused(ItemNotFound, call)
        elif any(models[line["itemId"]].quantity < line["quantity"] for line in lines):
            self.refused(InsufficientStock, call)
        else:
            result = call()
            assert [(m["itemId"], m["delta"]) for m in result["movements"]] == [
                (line["itemId"], -line["quantity"]) for line in lines
            ]
            for line in lines:
                models[line["itemId"]].deltas.append(-line["quantity"])
            self.orders[order_id] = Applied(lines, result)

    @precondition(lambda self: any(not model.deleted for model in self.items))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from([model for model in self.items if not model.deleted]), label="deleted")
        deleted = operations.delete_item(self.service, {"id": item.id})
        assert deleted is not None and deleted["quantity"] == item.quantity
        item.deleted = True
        assert operations.delete_item(self.service, {"id": item.id}) is None

    # What must hold at the end of every history (the rules check each answer as it comes)

    def teardown(self) -> None:
        try:
            for model in self.items:
                self.check_history(model)
        finally:
            self.client.delete_table(TableName=self.table)

    def check_history(self, model: ModelItem) -> None:
        """The item's movements are exactly the model's, each quantityAfter is the running sum and never negative,
        and the stored quantity is their sum (movements outlive a deleted item)."""
        page = operations.item_movements(self.service, {"id": model.id}, {"limit": 100})
        assert page["nextToken"] is None
        movements = list(reversed(page["items"]))  # oldest first
        initial = [model.initial] if model.initial else []  # createItem records initial stock as a movement
        assert [m["delta"] for m in movements] == initial + model.deltas, "a movement is missing, doubled or extra"
        running = 0
        for movement in movements:
            running += movement["delta"]
            assert movement["quantityAfter"] == running >= 0
        stored = operations.get_item(self.service, {"id": model.id})
        if model.deleted:
            assert stored is None
        else:
            assert stored is not None and stored["quantity"] == model.quantity == running


def test_random_histories_keep_the_stock_invariant(moto_dynamodb: Any) -> None:
    run_state_machine_as_test(
        lambda: StockMachine(moto_dynamodb),
        settings=settings(
            max_examples=12,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
