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
from benchmarks.dataset import BUSY_ITEM_MOVEMENTS, CATEGORY, PAGE, SEED_ITEMS, adjustment, new_item, order, seed
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


def describe(result: Any) -> str:
    """A few words on what an operation returned, to show that it did what its name says."""
    if result is None:
        return "null"
    if isinstance(result, list):
        return f"{plural(len(result), 'page')}, {plural(sum(len(page['items']) for page in result), 'movement')}"
    if "items" in result:
        return plural(len(result["items"]), "item") + (" + nextToken" if result["nextToken"] else "")
    if "orderId" in result:
        return plural(len(result["movements"]), "movement")
    if "delta" in result:
        return f"movement {result['delta']:+d} -> {result['quantityAfter']}"
    return f"item v{result['version']}, quantity {result['quantity']}"


def measure_operations(endpoint: str) -> list[list[str]]:
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    client = runtime.dynamodb_client()  # the very client the resolvers use
    ensure_table(client, SERVICE_ENV["INVENTORY_TABLE_NAME"])
    meter = CapacityMeter(client)
    rows = []
    for name, run in operations(seed()):
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
item has {BUSY_ITEM_MOVEMENTS} movements, the others 1. DynamoDB Local reports one CapacityUnits figure per call:
shown as RCU for GetItem/BatchGetItem/Query, as WCU for PutItem/TransactWriteItems.
Caveat: DynamoDB Local does not add up the items of a TransactWriteItems (its table units stay the same for 1 or
12 items; index writes count 2 units each), so its transaction WCU are far below AWS's bill: 2 WCU per KB of every
item written in a transaction (see "items written"), plus the index writes."""
    )
