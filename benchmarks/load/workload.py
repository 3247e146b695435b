"""The load test's requests: a small catalogue created through the API, then a mix of reads and writes per client.

Writes contend on purpose: every order takes units from one of a few hot items with little stock (so some orders are
short: InsufficientStock), updates race on the same items (VersionConflict) and some replay an expectedVersion that
an acknowledged update already used (a VersionConflict for sure), adjustments and orders are replayed with the same
input (the first answer must come back, nothing applied again). Every answer goes into the ledger.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.load.client import GraphQLClient
from benchmarks.load.ledger import Adjustment, Ledger, Order
from benchmarks.outcomes import Outcome, Sample

Json = dict[str, Any]
MOVEMENT = "id itemId delta quantityAfter reason reference"
ITEM = "id sku quantity version"

GET_ITEM = f"query GetItem($id: ID!) {{ getItem(id: $id) {{ {ITEM} }} }}"
GET_ITEM_BY_SKU = f"query GetItemBySku($sku: String!) {{ getItemBySku(sku: $sku) {{ {ITEM} }} }}"
LIST_ITEMS = f"""query ListItems($filter: ItemFilter, $limit: Int) {{
  listItems(filter: $filter, limit: $limit) {{
    items {{ {ITEM} movements(limit: 5) {{ items {{ {MOVEMENT} }} nextToken }} }}
    nextToken
  }}
}}"""
ITEM_MOVEMENTS = f"""query ItemMovements($id: ID!, $nextToken: String) {{
  getItem(id: $id) {{ {ITEM} movements(limit: 100, nextToken: $nextToken) {{ items {{ {MOVEMENT} }} nextToken }} }}
}}"""
CREATE_ITEM = f"mutation CreateItem($input: CreateItemInput!) {{ createItem(input: $input) {{ {ITEM} }} }}"
UPDATE_ITEM = f"mutation UpdateItem($input: UpdateItemInput!) {{ updateItem(input: $input) {{ {ITEM} }} }}"
ADJUST_STOCK = f"mutation AdjustStock($input: AdjustStockInput!) {{ adjustStock(input: $input) {{ {MOVEMENT} }} }}"
FULFILL_ORDER = f"""mutation FulfillOrder($input: FulfillOrderInput!) {{
  fulfillOrder(input: $input) {{ orderId movements {{ {MOVEMENT} }} }}
}}"""

HOT_CATEGORY, COLD_CATEGORY = "load-hot", "load"
HOT_STOCK, COLD_STOCK = 10, 100_000  # hot items run short under the orders; the others never do

# The refusals a correct server gives under this load; any other errorType is a failure of the run.
EXPECTED_REFUSALS: dict[str, frozenset[str]] = {
    "adjustStock": frozenset({"InsufficientStock"}),
    "fulfillOrder": frozenset({"InsufficientStock"}),
    "updateItem": frozenset({"VersionConflict"}),
    "updateItem, stale version": frozenset({"VersionConflict"}),
}


class LoadError(RuntimeError):
    """The run cannot go on: the catalogue could not be created, or an item not read back."""


@dataclass(frozen=True)
class CatalogueItem:
    id: str
    sku: str
    initial: int
    hot: bool


def create_catalogue(client: GraphQLClient, run_id: str, items: int, hot: int) -> list[CatalogueItem]:
    """``items`` items through createItem, the first ``hot`` of them hot (little stock)."""
    catalogue = []
    for n in range(items):
        is_hot = n < hot
        stock = HOT_STOCK if is_hot else COLD_STOCK
        sku = f"LOAD-{run_id}-{n:03d}"
        item = {
            "sku": sku,
            "name": f"Load item {n}",
            "category": HOT_CATEGORY if is_hot else COLD_CATEGORY,
            "price": 9.99,
            "quantity": stock,
            "reorderPoint": 5,
        }
        outcome = client.execute(CREATE_ITEM, {"input": item}, "createItem")
        if not outcome.ok:
            raise LoadError(f"createItem {sku} failed: {outcome.error_type} {outcome.detail}")
        catalogue.append(CatalogueItem(outcome.data["id"], sku, stock, is_hot))
    return catalogue


class Workload:
    """One client's requests; ``rng`` makes a client's choices reproducible from the run's seed."""

    def __init__(
        self, client: GraphQLClient, catalogue: Sequence[CatalogueItem], ledger: Ledger, name: str, rng: random.Random
    ) -> None:
        self.client, self.catalogue, self.ledger, self.name, self.rng = client, catalogue, ledger, name, rng
        self.hot = [item for item in catalogue if item.hot]
        self.cold = [item for item in catalogue if not item.hot]
        self.requests = 0
        # (weight, operation): a third reads, the rest writes that contend
        self.mix: list[tuple[int, Callable[[], Sample]]] = [
            (14, self.get_item),
            (10, self.get_item_by_sku),
            (8, self.list_items),
            (16, self.adjust_stock),
            (5, self.replay_adjustment),
            (20, self.fulfill_order),
            (4, self.replay_order),
            (15, self.update_item),
            (8, self.update_item_stale),
        ]

    def next(self) -> Sample:
        weights = [weight for weight, _ in self.mix]
        operation = self.rng.choices([operation for _, operation in self.mix], weights)[0]
        self.requests += 1
        return operation()

    def _key(self, kind: str) -> str:
        return f"{self.name}-{kind}{self.requests}"

    # Reads

    def get_item(self) -> Sample:
        item = self.rng.choice(self.catalogue)
        outcome = self.client.execute(GET_ITEM, {"id": item.id}, "getItem")
        self._found(item, outcome)
        return "getItem", outcome

    def get_item_by_sku(self) -> Sample:
        item = self.rng.choice(self.catalogue)
        outcome = self.client.execute(GET_ITEM_BY_SKU, {"sku": item.sku}, "getItemBySku")
        self._found(item, outcome)
        return "getItemBySku", outcome

    def list_items(self) -> Sample:
        item_filter = self.rng.choice([None, {"category": HOT_CATEGORY}, {"category": COLD_CATEGORY}])
        outcome = self.client.execute(LIST_ITEMS, {"filter": item_filter, "limit": 10}, "listItems")
        for item in (outcome.data or {}).get("items", []):
            self._saw(item)
        return "listItems with movements", outcome

    def _found(self, item: CatalogueItem, outcome: Outcome) -> None:
        """No item is ever deleted here: a null answer means an item went missing."""
        if outcome.ok and (outcome.data is None or outcome.data["id"] != item.id):
            self.ledger.violation(f"item {item.id} ({item.sku}) read as {outcome.data}")
        self._saw(outcome.data)

    def _saw(self, item: Json | None) -> None:
        if item is not None:
            self.ledger.saw_version(item["id"], item["version"])

    # Stock writes

    def adjust_stock(self) -> Sample:
        """Receipts (mostly on the hot items, which the orders drain) and damages (some short of stock)."""
        item = self.rng.choice(self.hot if self.rng.random() < 0.6 else self.cold)
        received = self.rng.random() < 0.7
        delta = self.rng.randint(1, 4) if received else -self.rng.randint(1, 3)
        adjustment = Adjustment(self._key("a"), item.id, delta, "RECEIVED" if received else "DAMAGED")
        outcome = self.client.execute(ADJUST_STOCK, adjustment.variables(), "adjustStock")
        if outcome.ok:
            self.ledger.acknowledged_adjustment(adjustment, outcome.data)
        elif _refused("adjustStock", outcome):
            self.ledger.refused_adjustment(adjustment)
        else:
            self.ledger.unanswered_adjustment(adjustment)
        return "adjustStock", outcome

    def replay_adjustment(self) -> Sample:
        earlier = self.ledger.any_adjustment(self.rng.randrange(1 << 30))
        if earlier is None:
            return self.adjust_stock()
        adjustment, first = earlier
        outcome = self.client.execute(ADJUST_STOCK, adjustment.variables(), "adjustStock")
        if outcome.ok and outcome.data != first:
            self.ledger.violation(f"adjustStock {adjustment.key} replayed: {outcome.data}, first answer {first}")
        return "adjustStock, replay", outcome

    def fulfill_order(self) -> Sample:
        """One hot line and one to three others: the hot item is where orders contend and run short."""
        items = [self.rng.choice(self.hot), *self.rng.sample(self.cold, self.rng.randint(1, 3))]
        order = Order(self._key("o"), tuple((item.id, self.rng.randint(1, 2)) for item in items))
        outcome = self.client.execute(FULFILL_ORDER, order.variables(), "fulfillOrder")
        if outcome.ok:
            self.ledger.acknowledged_order(order, outcome.data["movements"])
        elif _refused("fulfillOrder", outcome):
            self.ledger.refused_order(order)
        else:
            self.ledger.unanswered_order(order)
        return "fulfillOrder", outcome

    def replay_order(self) -> Sample:
        """The same lines, shuffled: the same order, so the first answer comes back."""
        earlier = self.ledger.any_order(self.rng.randrange(1 << 30))
        if earlier is None:
            return self.fulfill_order()
        order, first = earlier
        lines = tuple(self.rng.sample(order.lines, len(order.lines)))
        outcome = self.client.execute(FULFILL_ORDER, order.variables(lines), "fulfillOrder")
        if outcome.ok and outcome.data["movements"] != first:
            self.ledger.violation(f"fulfillOrder {order.order_id} replayed: {outcome.data}, first answer {first}")
        return "fulfillOrder, replay", outcome

    # Descriptive writes

    def update_item(self) -> Sample:
        """With the latest version any client saw: races with the other clients give VersionConflict."""
        item = self.rng.choice(self.catalogue)
        expected = self.ledger.versions.get(item.id, 1)
        outcome = self._update(item, expected)
        if outcome.ok:
            self.ledger.acknowledged_update(item.id, expected)
            if outcome.data["version"] != expected + 1:
                self.ledger.violation(f"updateItem {item.id} from version {expected} gave {outcome.data['version']}")
        return "updateItem", outcome

    def update_item_stale(self) -> Sample:
        """An expectedVersion an acknowledged update already used: accepting it would lose that update."""
        item = self.rng.choice(self.catalogue)
        stale = self.ledger.stale_version(item.id, self.rng.randrange(1 << 30))
        if stale is None:
            return self.update_item()
        outcome = self._update(item, stale)
        if outcome.ok:
            self.ledger.acknowledged_update(item.id, stale)  # the check then reports the version used twice
        return "updateItem, stale version", outcome

    def _update(self, item: CatalogueItem, expected: int) -> Outcome:
        name = f"Load item {item.sku} by {self.name}"
        outcome = self.client.execute(
            UPDATE_ITEM, {"input": {"id": item.id, "expectedVersion": expected, "name": name}}, "updateItem"
        )
        if outcome.ok:
            self._saw(outcome.data)
        elif _refused("updateItem", outcome):
            if isinstance(outcome.error_info, dict):
                self.ledger.saw_version(item.id, int(outcome.error_info.get("currentVersion") or 0))
        else:
            self.ledger.unanswered_update(item.id)
        return outcome


def _refused(operation: str, outcome: Outcome) -> bool:
    """An expected refusal, which writes nothing. Any other error (no answer, an InternalError) fails the run, and
    the check then accepts the write as applied or not, but not half."""
    return outcome.error_type in EXPECTED_REFUSALS[operation]
