"""A small, realistic catalogue for a first look in GraphiQL, loaded through the same operations as the API.

Four categories; some items low on stock, some out of stock, one discontinued; every item has a movement history
(deliveries, sales, a return, damage, a stock-take correction) and one order sold two items at once. Besides MAIN,
a second location, a store, holds some of the stock, moved there by one transfer, so that items show their levels.
It is loaded only into a table without items, so ``--seed`` on every start changes nothing after the first, and an
item deleted by hand stays deleted (``--reset`` starts over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inventory import operations
from inventory.service import InventoryService

# (delta, reason, reference) applied in order after the item is created with its initial stock.
Movement = tuple[int, str, str | None]


@dataclass(frozen=True)
class SeedItem:
    sku: str
    name: str
    category: str
    price: float
    initial_stock: int
    movements: tuple[Movement, ...] = ()
    reorder_point: int = 10
    description: str | None = None
    discontinued: bool = False


CATALOGUE: tuple[SeedItem, ...] = (
    SeedItem(
        "GRD-GLOVES-M",
        "Gardening gloves, size M",
        "garden",
        6.4,
        40,
        ((-22, "SOLD", "web order 5120"), (-3, "DAMAGED", "torn in storage")),
        reorder_point=20,
        description="Nitrile-coated, breathable back.",
    ),
    SeedItem("GRD-HOSE-25", "Garden hose, 25 m", "garden", 34.0, 30, ((-3, "SOLD", "web order 5107"),), 8),
    SeedItem(
        "GRD-SHEARS",
        "Pruning shears",
        "garden",
        16.75,
        60,
        ((-8, "SOLD", "shop till 2"), (1, "RETURNED", "customer return, unused")),
        15,
    ),
    SeedItem(
        "HND-HAMMER-16",
        "Claw hammer, 16 oz",
        "hand-tools",
        24.9,
        48,
        ((-6, "SOLD", "web order 5099"), (12, "RECEIVED", "delivery note DN-3301"), (-1, "CORRECTION", "stock-take")),
        description="Fibreglass handle, anti-vibration grip.",
    ),
    SeedItem(
        "HND-SCREWDRIVERS", "Precision screwdriver set, 24 pieces", "hand-tools", 18.5, 20, ((-12, "SOLD", None),)
    ),
    SeedItem("HND-TAPE-5M", "Tape measure, 5 m", "hand-tools", 9.95, 15, ((-15, "SOLD", "trade account 88"),), 5),
    SeedItem(
        "PWR-DRILL-18V",
        "Cordless drill, 18 V",
        "power-tools",
        129.0,
        10,
        ((6, "RECEIVED", "delivery note DN-3320"),),
        5,
        "Two batteries and a charger included.",
    ),
    SeedItem(
        "PWR-JIGSAW", "Jigsaw, 650 W", "power-tools", 74.5, 4, ((-3, "SOLD", None), (-1, "DAMAGED", "drop test")), 3
    ),
    SeedItem("PWR-SANDER", "Random orbital sander", "power-tools", 89.99, 7, ((-4, "SOLD", "web order 5131"),), 4),
    SeedItem("SAF-EARMUFFS", "Ear defenders, SNR 30 dB", "safety", 21.0, 14, (), 10),
    SeedItem(
        "SAF-GOGGLES",
        "Safety goggles",
        "safety",
        7.99,
        150,
        ((-30, "SOLD", "trade account 12"), (2, "CORRECTION", "stock-take")),
        30,
    ),
    SeedItem(
        "SAF-HARDHAT-2019",
        "Hard hat (2019 model)",
        "safety",
        15.0,
        6,
        description="Replaced by the 2024 model; remaining stock is still sold.",
        discontinued=True,
    ),
)

# Orders placed once the items exist: (order number, [(sku, quantity)]).
ORDERS: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (("1001", (("PWR-DRILL-18V", 2), ("SAF-GOGGLES", 2))),)

# The second location, (code, name), and what one transfer then moves there from MAIN: [(sku, quantity)].
STORE = ("STORE-1", "High Street store")
STORE_STOCK: tuple[tuple[str, int], ...] = (("GRD-GLOVES-M", 5), ("HND-HAMMER-16", 8), ("PWR-DRILL-18V", 3))


def seed(service: InventoryService) -> int:
    """Load the catalogue into a table without items; returns how many items were created (0: the table had some)."""
    # One listed item is enough to know: a Query of one key on the all-items index, never a Scan.
    if operations.list_items(service, {"limit": 1})["items"]:
        return 0
    created = {entry.sku: _create(service, entry) for entry in CATALOGUE}
    for number, lines in ORDERS:
        order_lines = [{"itemId": created[sku], "quantity": quantity} for sku, quantity in lines]
        order = {"orderId": f"seed-{number}-{order_lines[0]['itemId']}", "lines": order_lines}
        operations.fulfill_order(service, {"input": order})
    store_lines = [{"itemId": created[sku], "quantity": quantity} for sku, quantity in STORE_STOCK]
    transfer = {
        "idempotencyKey": f"seed-transfer-{store_lines[0]['itemId']}",
        "fromLocationId": "MAIN",
        "toLocationId": _store_id(service),
        "lines": store_lines,
        "reference": "opening stock for the store",
    }
    operations.transfer_stock(service, {"input": transfer})
    return len(created)


def _store_id(service: InventoryService) -> str:
    """The store's id: locations are never deleted, so a table emptied of items by hand may have it already."""
    code, name = STORE
    for location in operations.list_locations(service, {}):
        if location["code"] == code:
            return str(location["id"])
    return str(operations.create_location(service, {"input": {"code": code, "name": name}})["id"])


def _create(service: InventoryService, entry: SeedItem) -> str:
    new: dict[str, Any] = {
        "sku": entry.sku,
        "name": entry.name,
        "category": entry.category,
        "price": entry.price,
        "quantity": entry.initial_stock,
        "reorderPoint": entry.reorder_point,
        "description": entry.description,
    }
    item = operations.create_item(service, {"input": new})
    item_id = str(item["id"])
    for number, (delta, reason, reference) in enumerate(entry.movements, start=1):
        movement = {
            "itemId": item_id,
            "delta": delta,
            "reason": reason,
            "reference": reference,
            "idempotencyKey": f"seed-{item_id}-{number}",
        }
        operations.adjust_stock(service, {"input": movement})
    if entry.discontinued:
        change = {"id": item_id, "expectedVersion": item["version"], "status": "DISCONTINUED"}
        operations.update_item(service, {"input": change})
    return item_id
