"""Races through the handlers on DynamoDB Local: stock is never lost, doubled or driven below zero.

Threads start together behind a barrier. Each thread has its own AppSyncResolver (as concurrent Lambda containers
would) and all share the cached service and its boto3 client.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from tests.appsync import container_per_thread, error_of, invoke_batch, is_error, mutate, query
from tests.integration.conftest import NewItem


@pytest.fixture(autouse=True)
def _one_container_per_thread() -> Iterator[None]:
    with container_per_thread():
        yield


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call on its own thread, all released at once; their results in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def adjust_call(item_id: str, delta: int, reason: str, key: str | None = None) -> Callable[[], Any]:
    adjustment = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": key or str(uuid.uuid4())}
    return lambda: mutate("adjustStock", {"input": adjustment})


def order_call(order_id: str, lines: list[tuple[str, int]]) -> Callable[[], Any]:
    order = {"orderId": order_id, "lines": [{"itemId": item_id, "quantity": quantity} for item_id, quantity in lines]}
    return lambda: mutate("fulfillOrder", {"input": order})


def all_movements(item: dict[str, Any]) -> list[dict[str, Any]]:
    (page,) = invoke_batch("Item", "movements", [item], {"limit": 100})
    assert not is_error(page) and page["nextToken"] is None, page
    return page["items"]  # type: ignore[no-any-return]


def current(item: dict[str, Any]) -> dict[str, Any]:
    found = query("getItem", {"id": item["id"]})
    assert found is not None
    return found  # type: ignore[no-any-return]


def error_types(results: list[Any]) -> Counter[str]:
    return Counter(error_of(result)["type"] for result in results if is_error(result))


def test_twenty_single_unit_sales_of_ten_in_stock_exactly_ten_succeed(new_item: NewItem) -> None:
    item = new_item(quantity=10)

    results = race([adjust_call(item["id"], -1, "SOLD") for _ in range(20)])

    sold = [result for result in results if not is_error(result)]
    assert len(sold) == 10
    assert error_types(results) == Counter({"InsufficientStock": 10})
    for result in results:
        if is_error(result):
            assert error_of(result)["info"] == {"lines": [{"itemId": item["id"], "available": 0, "requested": 1}]}
    assert sorted(movement["quantityAfter"] for movement in sold) == list(range(10))
    after = current(item)
    assert (after["quantity"], after["status"], after["version"]) == (0, "OUT_OF_STOCK", 1)
    recorded = [movement for movement in all_movements(item) if movement["reason"] == "SOLD"]
    assert len(recorded) == 10
    assert sorted(movement["id"] for movement in recorded) == sorted(movement["id"] for movement in sold)
    assert [movement["quantityAfter"] for movement in recorded] == list(range(10))  # newest first


def test_twenty_concurrent_increments_lose_nothing(new_item: NewItem) -> None:
    item = new_item(quantity=5)

    results = race([adjust_call(item["id"], 1, "RECEIVED") for _ in range(20)])

    assert not any(is_error(result) for result in results), error_types(results)
    assert sorted(result["quantityAfter"] for result in results) == list(range(6, 26))
    assert current(item)["quantity"] == 25
    assert len(all_movements(item)) == 21


def test_concurrent_sales_and_returns_add_up(new_item: NewItem) -> None:
    item = new_item(quantity=50)

    results = race(
        [adjust_call(item["id"], -3, "SOLD") for _ in range(8)]
        + [adjust_call(item["id"], 2, "RETURNED") for _ in range(8)]
    )

    assert not any(is_error(result) for result in results), error_types(results)
    assert current(item)["quantity"] == 50 - 24 + 16
    history = list(reversed(all_movements(item)))  # oldest first
    assert len(history) == 17
    for before, movement in itertools.pairwise(history):  # each movement starts where the last ended
        assert movement["quantityAfter"] == before["quantityAfter"] + movement["delta"]


def test_ten_racing_replays_of_one_key_apply_once_and_all_get_the_same_movement(new_item: NewItem) -> None:
    item = new_item(quantity=10)

    results = race([adjust_call(item["id"], -1, "SOLD", key="same-sale") for _ in range(10)])

    assert not any(is_error(result) for result in results), error_types(results)
    assert len({result["id"] for result in results}) == 1
    assert all(result == results[0] for result in results)
    assert results[0]["quantityAfter"] == 9
    assert current(item)["quantity"] == 9
    assert [movement["reason"] for movement in all_movements(item)] == ["SOLD", "RECEIVED"]


def test_racing_replays_of_one_order_apply_once_and_all_get_the_same_result(new_item: NewItem) -> None:
    first, second = new_item(quantity=10), new_item(quantity=10)

    results = race([order_call("order-once", [(first["id"], 2), (second["id"], 3)]) for _ in range(10)])

    assert not any(is_error(result) for result in results), error_types(results)
    assert all(result == results[0] for result in results)
    assert (current(first)["quantity"], current(second)["quantity"]) == (8, 7)
    assert len(all_movements(first)) == len(all_movements(second)) == 2


def test_concurrent_orders_over_overlapping_items_never_oversell_and_add_up(new_item: NewItem) -> None:
    stock = {"A": 10, "B": 7, "C": 12}
    items = {name: new_item(sku=f"ORD-{name}", quantity=quantity) for name, quantity in stock.items()}
    shapes = [
        [("A", 2), ("B", 1)],
        [("B", 2), ("C", 3)],
        [("A", 1), ("C", 2)],
        [("A", 3), ("B", 1), ("C", 1)],
    ]
    orders = {f"order-{n}": shapes[n % len(shapes)] for n in range(16)}  # demand: A 24, B 16, C 24

    results = race(
        [
            order_call(order_id, [(items[name]["id"], quantity) for name, quantity in lines])
            for order_id, lines in orders.items()
        ]
    )

    succeeded = [order_id for order_id, result in zip(orders, results, strict=True) if not is_error(result)]
    assert set(error_types(results)) <= {"InsufficientStock"}
    assert succeeded, "some orders fit in the stock"
    assert len(succeeded) < len(orders), "demand exceeds stock: some orders must be refused"
    taken = Counter[str]()
    for order_id in succeeded:
        for name, quantity in orders[order_id]:
            taken[name] += quantity
    for name, item in items.items():
        after = current(item)
        assert after["quantity"] >= 0
        assert after["quantity"] == stock[name] - taken[name], name
        sold = [movement for movement in all_movements(item) if movement["reason"] == "SOLD"]
        assert sorted(movement["reference"] for movement in sold) == sorted(
            order_id for order_id in succeeded if any(line[0] == name for line in orders[order_id])
        )
    for order_id, result in zip(orders, results, strict=True):
        if not is_error(result):  # all lines or none
            assert [m["delta"] for m in result["movements"]] == [-quantity for _, quantity in orders[order_id]]


def test_a_pending_edit_succeeds_while_stock_moves_concurrently(new_item: NewItem) -> None:
    item = new_item(quantity=10)
    edit = {"id": item["id"], "expectedVersion": 1, "name": "Edited under load"}

    results = race(
        [adjust_call(item["id"], 1, "RECEIVED") for _ in range(10)] + [lambda: mutate("updateItem", {"input": edit})]
    )

    assert not any(is_error(result) for result in results), error_types(results)
    after = current(item)
    assert (after["quantity"], after["name"], after["version"]) == (20, "Edited under load", 2)


def test_concurrent_edits_of_the_same_version_let_exactly_one_win(new_item: NewItem) -> None:
    item = new_item()

    results = race(
        [
            partial(mutate, "updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": f"n{n}"}})
            for n in range(10)
        ]
    )

    winners = [result for result in results if not is_error(result)]
    assert len(winners) == 1
    assert error_types(results) == Counter({"VersionConflict": 9})
    for result in results:
        if is_error(result):
            assert error_of(result)["info"] == {"expectedVersion": 1, "currentVersion": 2}
    assert current(item) == winners[0]


def test_concurrent_creates_of_one_sku_create_one_item_and_refuse_the_others_as_duplicate(
    table_name: str,
) -> None:
    results = race(
        [
            partial(
                mutate, "createItem", {"input": {"sku": "RACE-1", "name": f"n{n}", "category": "tools", "price": 1}}
            )
            for n in range(10)
        ]
    )

    created = [result for result in results if not is_error(result)]
    assert len(created) == 1
    assert error_types(results) == Counter({"DuplicateSku": 9})
    assert query("getItemBySku", {"sku": "RACE-1"}) == created[0]
    assert len(query("listItems", {})["items"]) == 1


def test_stock_moves_racing_a_delete_never_resurrect_the_item_and_the_deleted_item_counts_them(
    new_item: NewItem,
) -> None:
    item = new_item(sku="GONE", quantity=10)

    results = race(
        [adjust_call(item["id"], 1, "RECEIVED") for _ in range(10)]
        + [partial(mutate, "deleteItem", {"id": item["id"]})]
    )

    *adjustments, deleted = results
    applied = [result for result in adjustments if not is_error(result)]
    assert error_types(adjustments) == Counter({"ItemNotFound": len(adjustments) - len(applied)})
    assert deleted is not None and deleted["quantity"] == 10 + len(applied)  # each applied move came before it
    assert query("getItem", {"id": item["id"]}) is None
    assert query("getItemBySku", {"sku": "GONE"}) is None
    assert query("listItems", {})["items"] == []
