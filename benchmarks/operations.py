"""Part 1 of ``make bench``: DynamoDB calls and consumed capacity per GraphQL operation.

DynamoDB Local is started, a fresh table is created with inventory.table.ensure_table, and the Lambda handlers are
called with AppSync events, exactly as AppSync would; benchmarks/capacity.py reads what DynamoDB reports.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from benchmarks.capacity import CapacityMeter
from benchmarks.dataset import (
    BUSY_ITEM_MOVEMENTS,
    CATEGORY,
    PAGE,
    SEED_ITEMS,
    adjustment,
    count,
    new_item,
    order,
    reservation,
    seed,
    transfer,
)
from benchmarks.environment import SERVICE_ENV
from benchmarks.invocations import movements, mutation, query
from benchmarks.tables import plural, print_table
from devserver import dynamodb_local
from inventory.table import ensure_table
from resolvers import runtime

Operation = tuple[str, Callable[[], Any]]


def operations(items: Sequence[Mapping[str, Any]]) -> list[Operation]:
    """The measured operations, in the order they run (each later one sees the writes of the earlier ones)."""
    first, second = items[0], items[1]
    page = {"limit": PAGE}
    return [
        ("getItem", partial(query, "getItem", id=first["id"])),
        ("getItemBySku", partial(query, "getItemBySku", sku=first["sku"])),
        ("listItems, no filter", partial(query, "listItems", **page)),
        ("listItems, filter category", partial(query, "listItems", filter={"category": CATEGORY}, **page)),
        ("listItems, filter status", partial(query, "listItems", filter={"status": "AVAILABLE"}, **page)),
        ("listItems, filter lowStock", partial(query, "listItems", filter={"lowStock": True}, **page)),
        ("Item.movements, 1 item", partial(movements, items[:1], **page)),
        (f"Item.movements, batch of {PAGE} items", partial(movements, items[:PAGE], **page)),
        ("createItem, quantity 0", partial(mutation, "createItem", input=new_item("NEW-0", 0))),
        ("createItem, initial stock", partial(mutation, "createItem", input=new_item("NEW-1", 50))),
        ("updateItem", partial(mutation, "updateItem", input={"id": second["id"], "expectedVersion": 1, "name": "X"})),
        ("deleteItem", partial(mutation, "deleteItem", id=items[-1]["id"])),
        ("adjustStock, first time", partial(mutation, "adjustStock", input=adjustment(second["id"], 3, "bench"))),
        ("adjustStock, replay", partial(mutation, "adjustStock", input=adjustment(second["id"], 3, "bench"))),
        *(
            (
                f"fulfillOrder, {plural(lines, 'line')}",
                partial(mutation, "fulfillOrder", input=order(key, items[:lines])),
            )
            for lines, key in ((1, "order-1"), (5, "order-5"), (25, "order-25"))
        ),
        ("fulfillOrder, 25 lines, replay", partial(mutation, "fulfillOrder", input=order("order-25", items[:25]))),
    ]


MAIN = "MAIN"


def prepare_stock_v2(items: Sequence[Mapping[str, Any]]) -> list[Operation]:
    """The stock-model-v2 rows, after their setup (not measured): two locations, and two reservations at MAIN to
    release later (1 and 25 lines). They run after the v1 rows, so that those stay as measured before v2."""
    east = mutation("createLocation", input={"code": "EAST", "name": "East warehouse"})["id"]
    west = mutation("createLocation", input={"code": "WEST", "name": "West store"})["id"]
    mutation("reserveStock", input=reservation("release-1", items[:1], MAIN))
    mutation("reserveStock", input=reservation("release-25", items[:25], MAIN))
    return stock_v2_operations(items, east, west)


def stock_v2_operations(items: Sequence[Mapping[str, Any]], east: str, west: str) -> list[Operation]:
    """Locations, transfers, counts and reservations. When getItem reads it, the first item has stock at 3 locations
    (MAIN, EAST, WEST) and 5 holds (3 at MAIN, 1 at EAST, 1 at WEST)."""
    first, second = items[0], items[1]
    return [
        ("createLocation", partial(mutation, "createLocation", input={"code": "NORTH", "name": "North depot"})),
        ("listLocations", partial(query, "listLocations")),
        ("getLocation", partial(query, "getLocation", id=east)),
        ("transferStock, 1 line", partial(mutation, "transferStock", input=transfer("move-1", items[:1], MAIN, east))),
        (
            "transferStock, 25 lines",
            partial(mutation, "transferStock", input=transfer("move-25", items[:25], MAIN, east)),
        ),
        ("setStock, 1 line", partial(mutation, "setStock", input=count("count-1", items[:1], west, 10))),
        ("setStock, 25 lines", partial(mutation, "setStock", input=count("count-25", items[:25], west, 8))),
        (
            "adjustStock, at a location",
            partial(mutation, "adjustStock", input={**adjustment(second["id"], 3, "bench-east"), "locationId": east}),
        ),
        (
            "fulfillOrder, 5 lines, at a location",
            partial(mutation, "fulfillOrder", input={**order("order-west-5", items[:5]), "locationId": west}),
        ),
        ("reserveStock, 1 line", partial(mutation, "reserveStock", input=reservation("cart-1", items[:1], MAIN))),
        ("reserveStock, 5 lines", partial(mutation, "reserveStock", input=reservation("cart-5", items[:5], east))),
        ("reserveStock, 25 lines", partial(mutation, "reserveStock", input=reservation("cart-25", items[:25], west))),
        ("getItem, levels at 3 locations, 5 holds", partial(query, "getItem", id=first["id"])),
        ("getReservation, active, 25 lines", partial(query, "getReservation", id="cart-25")),
        ("commitReservation, 1 line", partial(mutation, "commitReservation", id="cart-1")),
        ("commitReservation, 25 lines", partial(mutation, "commitReservation", id="cart-25")),
        ("getReservation, committed, 25 lines", partial(query, "getReservation", id="cart-25")),
        ("releaseReservation, 1 line", partial(mutation, "releaseReservation", id="release-1")),
        ("releaseReservation, 25 lines", partial(mutation, "releaseReservation", id="release-25")),
    ]


def describe(result: Any) -> str:
    """A few words on what an operation returned, to show that it did what its name says."""
    if result is None:
        return "null"
    if isinstance(result, list):
        if result and "code" in result[0]:
            return plural(len(result), "location")
        return f"{plural(len(result), 'page')}, {plural(sum(len(page['items']) for page in result), 'movement')}"
    if "items" in result:
        return plural(len(result["items"]), "item") + (" + nextToken" if result["nextToken"] else "")
    if "status" in result and "lines" in result:  # a reservation
        done = f", {plural(len(result['movements']), 'movement')}" if result["movements"] else ""
        return f"{result['status']}, {plural(len(result['lines']), 'line')}{done}"
    if "movements" in result:  # an order, a transfer, a count
        return plural(len(result["movements"]), "movement")
    if "code" in result:
        return f"location {result['code']}"
    if "delta" in result:
        return f"movement {result['delta']:+d} -> {result['quantityAfter']}"
    held = f", {plural(len(result['levels']), 'level')}, reserved {result['reserved']}" if result["reserved"] else ""
    return f"item v{result['version']}, quantity {result['quantity']}{held}"


def measure_operations(endpoint: str) -> list[list[str]]:
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    client = runtime.dynamodb_client()  # the very client the resolvers use
    ensure_table(client, SERVICE_ENV["INVENTORY_TABLE_NAME"])
    meter = CapacityMeter(client)
    items = seed()
    rows = _measure(meter, operations(items))
    # After the v1 rows, so that theirs stay as they were measured before stock model v2.
    return rows + _measure(meter, prepare_stock_v2(items))


def _measure(meter: CapacityMeter, measured: Sequence[Operation]) -> list[list[str]]:
    rows = []
    for name, run in measured:
        with meter.measure() as tally:
            result = run()
        rows.append([name, describe(result), *tally.row()])
    return rows


def report_operations() -> None:
    with dynamodb_local.running() as endpoint:
        rows = measure_operations(endpoint)
    print_table(
        "DynamoDB calls and consumed capacity per GraphQL operation (DynamoDB Local, ReturnConsumedCapacity=TOTAL)",
        ["operation", "result", "DynamoDB calls", "calls", "items written", "RCU", "WCU", "total CU"],
        rows,
        align="lllrrrrr",
    )
    print(
        f"""
Data: {SEED_ITEMS} items in one category with 5 in stock each (AVAILABLE, low stock); page size {PAGE}; the first
item has {BUSY_ITEM_MOVEMENTS} movements, the others 1. The stock-model-v2 rows (from createLocation) run after
the others on the same items, with the locations EAST and WEST and two reservations at MAIN (released in the last
two rows) set up first, unmeasured. commitReservation reads the reservation (GetItem), then its items
(BatchGetItem): which items is only known from the reservation.
DynamoDB Local reports one CapacityUnits figure per call:
shown as RCU for GetItem/BatchGetItem/Query, as WCU for PutItem/TransactWriteItems.
Caveat: DynamoDB Local does not add up the items of a TransactWriteItems (its table units stay the same for 1 or
12 items; index writes count 2 units each), so its transaction WCU are far below AWS's bill: 2 WCU per KB of every
item written in a transaction (see "items written"), plus the index writes."""
    )
