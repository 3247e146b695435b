"""The data the measured operations run on, written through the Lambda handlers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.invocations import mutation

CATEGORY = "benchmark"
SEED_ITEMS = 30  # more than a page, so that every listing below returns a full page and a nextToken
PAGE = 20
BUSY_ITEM_MOVEMENTS = 25  # item 0 gets this many movements: more than a page of them


def new_item(sku: str, quantity: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Benchmark item {sku}",
        "description": "An item of the benchmark data set.",
        "category": CATEGORY,
        "price": 19.99,
        "quantity": quantity,
        "reorderPoint": 10,
    }


def adjustment(item_id: str, delta: int, key: str) -> dict[str, Any]:
    return {"itemId": item_id, "delta": delta, "reason": "RECEIVED", "reference": "PO-1", "idempotencyKey": key}


def order(order_id: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"orderId": order_id, "lines": [{"itemId": item["id"], "quantity": 1} for item in items]}


def lines(items: Sequence[Mapping[str, Any]], units: int = 1) -> list[dict[str, Any]]:
    return [{"itemId": item["id"], "quantity": units} for item in items]


def reservation(reservation_id: str, items: Sequence[Mapping[str, Any]], location_id: str) -> dict[str, Any]:
    return {"reservationId": reservation_id, "locationId": location_id, "lines": lines(items), "reference": "cart"}


def transfer(key: str, items: Sequence[Mapping[str, Any]], source: str, destination: str) -> dict[str, Any]:
    return {"idempotencyKey": key, "fromLocationId": source, "toLocationId": destination, "lines": lines(items)}


def count(key: str, items: Sequence[Mapping[str, Any]], location_id: str, on_hand: int) -> dict[str, Any]:
    """A setStock input: every item counted at ``on_hand`` units."""
    counted = [{"itemId": item["id"], "onHand": on_hand} for item in items]
    return {"idempotencyKey": key, "locationId": location_id, "reference": "count", "lines": counted}


def seed() -> list[dict[str, Any]]:
    """SEED_ITEMS items with 5 in stock (AVAILABLE and low stock), the first one with BUSY_ITEM_MOVEMENTS movements."""
    items = [mutation("createItem", input=new_item(f"SEED-{n:04d}", 5)) for n in range(SEED_ITEMS)]
    for n in range(BUSY_ITEM_MOVEMENTS - 1):
        mutation("adjustStock", input=adjustment(items[0]["id"], 1, f"seed-{n}"))
    return items
