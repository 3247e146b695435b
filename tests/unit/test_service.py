"""The inventory rules through inventory.operations (raw GraphQL arguments in, JSON out) on moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from inventory import operations
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import InventoryError
from inventory.service import InventoryService
from inventory.table import TABLE
from tests.unit.conftest import NOW, Clock

Json = dict[str, Any]
NOW_TEXT = "2026-01-02T03:04:05.678Z"


# Helpers: one line per GraphQL call.


def create(service: InventoryService, sku: str = "SKU-1", **fields: Any) -> Json:
    return operations.create_item(
        service, {"input": {"sku": sku, "name": "Widget", "category": "tools", "price": 9.99, **fields}}
    )


def get(service: InventoryService, item_id: str) -> Json | None:
    return operations.get_item(service, {"id": item_id})


def stored(service: InventoryService, item_id: str) -> Json:
    """The item as getItem returns it now; it must exist."""
    item = get(service, item_id)
    assert item is not None
    return item


def update(service: InventoryService, item_id: str, expected_version: int, **fields: Any) -> Json:
    return operations.update_item(service, {"input": {"id": item_id, "expectedVersion": expected_version, **fields}})


def adjust(
    service: InventoryService, item_id: str, delta: int, key: str, reason: str = "CORRECTION", **extra: Any
) -> Json:
    arguments = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": key, **extra}
    return operations.adjust_stock(service, {"input": arguments})


def fulfill(service: InventoryService, order_id: str, *lines: tuple[str, int]) -> Json:
    order = {"orderId": order_id, "lines": [{"itemId": item, "quantity": quantity} for item, quantity in lines]}
    return operations.fulfill_order(service, {"input": order})


def movements(service: InventoryService, item_id: str, **arguments: Any) -> Json:
    return operations.item_movements(service, {"id": item_id}, arguments)


def listing(service: InventoryService, **arguments: Any) -> Json:
    return operations.list_items(service, arguments)


def skus(page: Json) -> list[str]:
    return [item["sku"] for item in page["items"]]


def walk(fetch: Callable[..., Json], limit: int) -> list[Json]:
    """Every page of a listing, following nextToken until it is null."""
    pages = [fetch(limit=limit)]
    while pages[-1]["nextToken"] is not None:
        assert len(pages) < 50, "nextToken never became null"
        pages.append(fetch(limit=limit, nextToken=pages[-1]["nextToken"]))
    return pages


def fails(error_type: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the call, expect the domain error ``error_type``, return its errorInfo."""
    with pytest.raises(InventoryError) as caught:
        call(*args, **kwargs)
    assert caught.value.error_type == error_type
    assert caught.value.message
    return caught.value.info


def without_id(record: Mapping[str, Any]) -> Json:
    return {name: value for name, value in record.items() if name != "id"}


# createItem and reads


@pytest.mark.parametrize("quantity", [{}, {"quantity": None}, {"quantity": 0}])
def test_create_item_with_no_stock_is_out_of_stock_with_the_configured_defaults(
    service: InventoryService, quantity: Json
) -> None:
    item = create(service, description="A small widget", **quantity)
    assert without_id(item) == {
        "sku": "SKU-1",
        "name": "Widget",
        "description": "A small widget",
        "category": "tools",
        "price": 9.99,
        "quantity": 0,
        "reorderPoint": 10,
        "status": "OUT_OF_STOCK",
        "lowStock": True,
        "version": 1,
        "createdAt": NOW_TEXT,
        "updatedAt": NOW_TEXT,
        "onHand": 0,
        "reserved": 0,
        "available": 0,
        "levels": [],
    }
    assert get(service, item["id"]) == item
    assert movements(service, item["id"]) == {"items": [], "nextToken": None}


def test_create_item_with_stock_records_an_initial_received_movement(service: InventoryService) -> None:
    item = create(service, quantity=25)
    assert (item["quantity"], item["status"], item["lowStock"], item["version"]) == (25, "AVAILABLE", False, 1)
    (movement,) = movements(service, item["id"])["items"]
    assert without_id(movement) == {
        "itemId": item["id"],
        "delta": 25,
        "quantityAfter": 25,
        "reason": "RECEIVED",
        "reference": "initial stock",
        "createdAt": NOW_TEXT,
        "sequence": 1,
        "locationId": "MAIN",
        "locationQuantityAfter": 25,
    }


def test_create_item_takes_the_default_reorder_point_from_settings(
    dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    custom = replace(settings, default_reorder_point=3)
    service = InventoryService(DynamoDBInventoryRepository(dynamodb, settings.table_name), custom, clock=clock)
    item = create(service, quantity=4)
    assert (item["reorderPoint"], item["lowStock"]) == (3, False)


@pytest.mark.parametrize(("quantity", "reorder_point", "low_stock"), [(5, 5, True), (6, 5, False), (0, 0, True)])
def test_low_stock_means_quantity_at_or_below_the_reorder_point(
    service: InventoryService, quantity: int, reorder_point: int, low_stock: bool
) -> None:
    item = create(service, quantity=quantity, reorderPoint=reorder_point)
    assert (item["reorderPoint"], item["lowStock"]) == (reorder_point, low_stock)


def test_timestamps_are_utc_with_z_and_milliseconds_whatever_the_clock_zone(
    service: InventoryService, clock: Clock
) -> None:
    clock.now = datetime(2026, 1, 2, 5, 4, 5, 678_999, tzinfo=timezone(timedelta(hours=2)))
    item = create(service, quantity=1)
    assert (item["createdAt"], item["updatedAt"]) == (NOW_TEXT, NOW_TEXT)
    assert movements(service, item["id"])["items"][0]["createdAt"] == NOW_TEXT


def test_a_taken_sku_gives_duplicate_sku_and_writes_nothing(service: InventoryService) -> None:
    first = create(service, sku="SKU-1", quantity=2)
    assert fails("DuplicateSku", create, service, sku="SKU-1", name="Other", quantity=7) == {"sku": "SKU-1"}
    assert listing(service)["items"] == [first]
    assert operations.get_item_by_sku(service, {"sku": "SKU-1"}) == first


def test_a_price_of_0_1_is_stored_as_a_decimal_number_and_reads_back_as_0_1(
    service: InventoryService, dynamodb: Any, settings: Settings
) -> None:
    item = create(service, price=0.1)
    assert stored(service, item["id"])["price"] == 0.1
    raw = dynamodb.get_item(TableName=settings.table_name, Key={"pk": {"S": f"ITEM#{item['id']}"}, "sk": {"S": "ITEM"}})
    assert raw["Item"]["price"] == {"N": "0.1"}


def test_invalid_input_writes_nothing(service: InventoryService) -> None:
    info = fails("ValidationError", create, service, price=1.234)
    assert info["field"] == "input.price"
    assert listing(service)["items"] == []


def test_get_item_by_sku_finds_the_item(service: InventoryService) -> None:
    item = create(service, sku="ABC-9")
    assert operations.get_item_by_sku(service, {"sku": "ABC-9"}) == item


@pytest.mark.parametrize("sku", ["NOPE", " ABC-9", "ABC-9 ", "", "S" * 65])
def test_get_item_by_sku_answers_null_for_an_unknown_or_invalid_sku(service: InventoryService, sku: str) -> None:
    create(service, sku="ABC-9")
    assert operations.get_item_by_sku(service, {"sku": sku}) is None


def test_get_item_answers_null_for_an_unknown_id(service: InventoryService) -> None:
    assert get(service, "no-such-id") is None


# updateItem


def test_update_item_changes_fields_and_bumps_the_version(service: InventoryService, clock: Clock) -> None:
    item = create(service, quantity=3)
    clock.now = NOW + timedelta(minutes=1)
    updated = update(service, item["id"], 1, name="Gadget", category="garden", price=12.5, reorderPoint=2)
    expected = {
        **item,
        "name": "Gadget",
        "category": "garden",
        "price": 12.5,
        "reorderPoint": 2,
        "lowStock": False,
        "version": 2,
        "updatedAt": "2026-01-02T03:05:05.678Z",
    }
    assert updated == expected
    assert get(service, item["id"]) == expected


def test_a_stale_expected_version_gives_version_conflict_and_writes_nothing(service: InventoryService) -> None:
    item = create(service)
    current = update(service, item["id"], 1, name="Second")
    info = fails("VersionConflict", update, service, item["id"], 1, name="Lost edit")
    assert info == {"expectedVersion": 1, "currentVersion": 2}
    assert get(service, item["id"]) == current


def test_updating_a_missing_item_gives_item_not_found(service: InventoryService) -> None:
    assert fails("ItemNotFound", update, service, "missing-id", 1, name="x") == {"id": "missing-id"}


def test_update_item_validates_before_looking_the_item_up(service: InventoryService) -> None:
    assert fails("ValidationError", update, service, "missing-id", 1, name=None) == {
        "field": "input.name",
        "reason": "cannot be null: the field is required",
    }


def test_an_explicit_null_description_clears_it(service: InventoryService) -> None:
    item = create(service, description="Old text")
    assert update(service, item["id"], 1, description=None)["description"] is None
    assert stored(service, item["id"])["description"] is None


def test_discontinuing_an_item_makes_it_never_low_stock(service: InventoryService) -> None:
    item = create(service, quantity=1)
    assert item["lowStock"] is True
    discontinued = update(service, item["id"], 1, status="DISCONTINUED")
    assert (discontinued["status"], discontinued["lowStock"], discontinued["quantity"]) == ("DISCONTINUED", False, 1)
    assert listing(service, filter={"lowStock": True})["items"] == []
    assert listing(service, filter={"status": "DISCONTINUED"})["items"] == [discontinued]


@pytest.mark.parametrize(("quantity", "status"), [(0, "OUT_OF_STOCK"), (4, "AVAILABLE")])
def test_making_a_discontinued_item_available_follows_its_stock(
    service: InventoryService, quantity: int, status: str
) -> None:
    item = create(service, quantity=quantity)
    update(service, item["id"], 1, status="DISCONTINUED")
    revived = update(service, item["id"], 2, status="AVAILABLE")
    assert (revived["status"], revived["version"]) == (status, 3)
    assert listing(service, filter={"status": status})["items"] == [revived]


def test_a_stock_change_does_not_bump_the_version_nor_fail_a_pending_edit(service: InventoryService) -> None:
    item = create(service, quantity=10)
    adjust(service, item["id"], -4, "sale-1", reason="SOLD")
    assert stored(service, item["id"])["version"] == 1
    edited = update(service, item["id"], 1, name="Renamed")
    assert (edited["name"], edited["version"], edited["quantity"]) == ("Renamed", 2, 6)
    assert get(service, item["id"]) == edited


# adjustStock


def test_adjust_stock_records_the_movement_and_moves_the_stock(service: InventoryService, clock: Clock) -> None:
    item = create(service, quantity=2)
    clock.now = NOW + timedelta(seconds=1)
    movement = adjust(service, item["id"], 5, "po-1", reason="RECEIVED", reference="PO-1")
    assert without_id(movement) == {
        "itemId": item["id"],
        "delta": 5,
        "quantityAfter": 7,
        "reason": "RECEIVED",
        "reference": "PO-1",
        "createdAt": "2026-01-02T03:04:06.678Z",
        "sequence": 2,
        "locationId": "MAIN",
        "locationQuantityAfter": 7,
    }
    after = get(service, item["id"])
    level = {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 7, "reserved": 0, "available": 7}
    figures = {"quantity": 7, "onHand": 7, "available": 7, "levels": [level]}
    assert after == {**item, **figures, "updatedAt": "2026-01-02T03:04:06.678Z"}
    assert movements(service, item["id"])["items"][0] == movement


def test_stock_reaching_zero_makes_the_item_out_of_stock_and_back(service: InventoryService) -> None:
    item = create(service, quantity=3, reorderPoint=1)
    adjust(service, item["id"], -3, "k1", reason="SOLD")
    assert stored(service, item["id"])["status"] == "OUT_OF_STOCK"
    assert skus(listing(service, filter={"status": "OUT_OF_STOCK"})) == ["SKU-1"]
    assert skus(listing(service, filter={"lowStock": True})) == ["SKU-1"]
    adjust(service, item["id"], 2, "k2", reason="RETURNED")
    assert stored(service, item["id"])["status"] == "AVAILABLE"
    assert skus(listing(service, filter={"status": "AVAILABLE"})) == ["SKU-1"]
    assert listing(service, filter={"status": "OUT_OF_STOCK"})["items"] == []
    assert listing(service, filter={"lowStock": True})["items"] == []


def test_a_discontinued_item_stays_discontinued_through_stock_changes(service: InventoryService) -> None:
    item = create(service, quantity=2)
    update(service, item["id"], 1, status="DISCONTINUED")
    adjust(service, item["id"], -2, "k1", reason="DAMAGED")
    after = stored(service, item["id"])
    assert (after["quantity"], after["status"], after["lowStock"]) == (0, "DISCONTINUED", False)


def test_stock_below_zero_gives_insufficient_stock_and_writes_nothing(service: InventoryService) -> None:
    item = create(service, quantity=2)
    info = fails("InsufficientStock", adjust, service, item["id"], -5, "k1", reason="SOLD")
    assert info == {"lines": [{"itemId": item["id"], "available": 2, "requested": 5}]}
    assert get(service, item["id"]) == item
    assert len(movements(service, item["id"])["items"]) == 1


def test_stock_above_the_maximum_is_refused(service: InventoryService) -> None:
    item = create(service, quantity=1_000_000_000)
    info = fails("ValidationError", adjust, service, item["id"], 1, "k1", reason="RECEIVED")
    assert info["field"] == "input.delta"
    assert stored(service, item["id"])["quantity"] == 1_000_000_000


def test_adjusting_a_missing_item_gives_item_not_found(service: InventoryService) -> None:
    assert fails("ItemNotFound", adjust, service, "missing-id", 1, "k1") == {"id": "missing-id"}


def test_a_replayed_idempotency_key_returns_the_first_movement_and_applies_once(service: InventoryService) -> None:
    item = create(service, quantity=10)
    first = adjust(service, item["id"], -3, "sale-1", reason="SOLD", reference="till 4")
    replay = adjust(service, item["id"], -3, "sale-1", reason="SOLD", reference="till 4")
    assert replay == first
    assert stored(service, item["id"])["quantity"] == 7
    listed = movements(service, item["id"])["items"]
    assert [m["reason"] for m in listed] == ["SOLD", "RECEIVED"]
    assert listed[0] == first


def test_a_replay_returns_the_first_movement_even_after_the_stock_changed(service: InventoryService) -> None:
    item = create(service, quantity=3)
    first = adjust(service, item["id"], -3, "sale-1", reason="SOLD")
    adjust(service, item["id"], 1, "correction-1")
    assert adjust(service, item["id"], -3, "sale-1", reason="SOLD") == first
    assert stored(service, item["id"])["quantity"] == 1


@pytest.mark.parametrize(
    "changes",
    [{"delta": -2}, {"reason": "DAMAGED"}, {"reference": "other"}, {"reference": None}],
)
def test_the_same_key_with_a_different_input_gives_idempotency_conflict(
    service: InventoryService, changes: dict[str, Any]
) -> None:
    item = create(service, quantity=10)
    original = {"itemId": item["id"], "delta": -3, "reason": "SOLD", "reference": "till 4", "idempotencyKey": "k1"}
    operations.adjust_stock(service, {"input": original})
    info = fails("IdempotencyConflict", operations.adjust_stock, service, {"input": {**original, **changes}})
    assert info == {"key": "k1"}
    assert stored(service, item["id"])["quantity"] == 7


def test_idempotency_keys_are_global_across_items(service: InventoryService) -> None:
    first = create(service, sku="A", quantity=5)
    second = create(service, sku="B", quantity=5)
    adjust(service, first["id"], 1, "shared-key")
    assert fails("IdempotencyConflict", adjust, service, second["id"], 1, "shared-key") == {"key": "shared-key"}
    assert stored(service, second["id"])["quantity"] == 5


def test_a_failed_adjust_stock_does_not_use_up_its_key(service: InventoryService) -> None:
    item = create(service, quantity=2)
    fails("InsufficientStock", adjust, service, item["id"], -5, "k1", reason="SOLD")
    adjust(service, item["id"], 3, "restock")
    movement = adjust(service, item["id"], -5, "k1", reason="SOLD")
    assert (movement["delta"], movement["quantityAfter"]) == (-5, 0)
    other = create(service, sku="OTHER", quantity=1)
    fails("InsufficientStock", adjust, service, other["id"], -2, "k2", reason="SOLD")
    assert adjust(service, other["id"], -1, "k2", reason="SOLD")["quantityAfter"] == 0


def test_an_idempotency_key_is_remembered_for_at_least_24_hours(
    service: InventoryService, dynamodb: Any, settings: Settings
) -> None:
    item = create(service, quantity=1)
    adjust(service, item["id"], 1, "k1")
    records = dynamodb.scan(TableName=settings.table_name)["Items"]
    (expires_at,) = [int(record[TABLE.ttl_attribute]["N"]) for record in records if TABLE.ttl_attribute in record]
    assert expires_at >= (NOW + timedelta(hours=24)).timestamp()


# fulfillOrder


@pytest.fixture
def stocked(service: InventoryService) -> dict[str, Json]:
    """Three items: A holds 5, B holds 2, C holds 1."""
    return {sku: create(service, sku=sku, quantity=quantity) for sku, quantity in [("A", 5), ("B", 2), ("C", 1)]}


def quantities(service: InventoryService, items: Mapping[str, Json]) -> dict[str, int]:
    return {sku: stored(service, item["id"])["quantity"] for sku, item in items.items()}


def test_fulfill_order_sells_every_line_in_order(service: InventoryService, stocked: dict[str, Json]) -> None:
    a, c = stocked["A"]["id"], stocked["C"]["id"]
    result = fulfill(service, "order-1", (c, 1), (a, 2))
    assert result["orderId"] == "order-1"
    sold = {"reason": "SOLD", "reference": "order-1", "createdAt": NOW_TEXT, "locationId": "MAIN"}
    assert [without_id(m) for m in result["movements"]] == [
        {"itemId": c, "delta": -1, "quantityAfter": 0, "locationQuantityAfter": 0, "sequence": 2, **sold},
        {"itemId": a, "delta": -2, "quantityAfter": 3, "locationQuantityAfter": 3, "sequence": 2, **sold},
    ]
    assert quantities(service, stocked) == {"A": 3, "B": 2, "C": 0}
    assert stored(service, c)["status"] == "OUT_OF_STOCK"
    assert movements(service, a)["items"][0] == result["movements"][1]


def test_an_order_with_a_short_line_moves_no_stock_and_lists_only_the_short_lines(
    service: InventoryService, stocked: dict[str, Json]
) -> None:
    a, b, c = (stocked[sku]["id"] for sku in "ABC")
    info = fails("InsufficientStock", fulfill, service, "order-1", (a, 5), (b, 3), (c, 2))
    assert info == {
        "lines": [{"itemId": b, "available": 2, "requested": 3}, {"itemId": c, "available": 1, "requested": 2}]
    }
    assert quantities(service, stocked) == {"A": 5, "B": 2, "C": 1}
    assert [len(movements(service, item)["items"]) for item in (a, b, c)] == [1, 1, 1]


def test_a_replayed_order_returns_the_first_result_and_applies_once(
    service: InventoryService, stocked: dict[str, Json]
) -> None:
    a, b = stocked["A"]["id"], stocked["B"]["id"]
    first = fulfill(service, "order-1", (a, 2), (b, 1))
    fulfill(service, "order-2", (a, 3))
    assert fulfill(service, "order-1", (a, 2), (b, 1)) == first
    assert quantities(service, stocked) == {"A": 0, "B": 1, "C": 1}


def test_an_order_id_with_different_lines_gives_idempotency_conflict(
    service: InventoryService, stocked: dict[str, Json]
) -> None:
    a, b = stocked["A"]["id"], stocked["B"]["id"]
    fulfill(service, "order-1", (a, 2))
    assert fails("IdempotencyConflict", fulfill, service, "order-1", (a, 3)) == {"key": "order-1"}
    assert fails("IdempotencyConflict", fulfill, service, "order-1", (a, 2), (b, 1)) == {"key": "order-1"}
    assert quantities(service, stocked) == {"A": 3, "B": 2, "C": 1}


def test_a_failed_order_does_not_use_up_its_order_id(service: InventoryService, stocked: dict[str, Json]) -> None:
    b = stocked["B"]["id"]
    fails("InsufficientStock", fulfill, service, "order-1", (b, 4))
    adjust(service, b, 2, "restock")
    result = fulfill(service, "order-1", (b, 4))
    assert [(m["delta"], m["quantityAfter"]) for m in result["movements"]] == [(-4, 0)]


def test_an_order_naming_a_missing_item_gives_item_not_found_before_any_stock_check(
    service: InventoryService, stocked: dict[str, Json]
) -> None:
    b = stocked["B"]["id"]
    assert fails("ItemNotFound", fulfill, service, "order-1", (b, 99), ("missing-id", 1)) == {"id": "missing-id"}
    assert quantities(service, stocked) == {"A": 5, "B": 2, "C": 1}


def test_order_ids_and_adjust_stock_keys_do_not_collide(service: InventoryService, stocked: dict[str, Json]) -> None:
    a = stocked["A"]["id"]
    adjust(service, a, 1, "same-id")
    assert fulfill(service, "same-id", (a, 6))["movements"][0]["quantityAfter"] == 0


def test_an_order_of_25_lines_applies_every_line(service: InventoryService) -> None:
    items = [create(service, sku=f"SKU-{n:02d}", quantity=2)["id"] for n in range(25)]
    result = fulfill(service, "big-order", *((item, 1) for item in items))
    assert [m["itemId"] for m in result["movements"]] == items
    assert {stored(service, item)["quantity"] for item in items} == {1}


# deleteItem


def test_delete_item_returns_the_item_then_null(service: InventoryService) -> None:
    item = create(service, quantity=3)
    assert operations.delete_item(service, {"id": item["id"]}) == item
    assert operations.delete_item(service, {"id": item["id"]}) is None
    assert get(service, item["id"]) is None
    assert listing(service)["items"] == []


def test_a_deleted_items_sku_can_be_used_again(service: InventoryService) -> None:
    item = create(service, sku="SKU-1")
    operations.delete_item(service, {"id": item["id"]})
    again = create(service, sku="SKU-1", name="Successor")
    assert again["id"] != item["id"]
    assert operations.get_item_by_sku(service, {"sku": "SKU-1"}) == again


# listItems


CATALOGUE = [  # sku, category, quantity, reorderPoint (created in this, non-sku, order)
    ("D-4", "garden", 0, 0),
    ("A-1", "tools", 50, 10),
    ("F-6", "tools", 3, 10),
    ("B-2", "garden", 20, 5),
    ("E-5", "tools", 0, 10),
    ("C-3", "toys", 9, 1),
]


@pytest.fixture
def catalogue(service: InventoryService) -> dict[str, Json]:
    return {
        sku: create(service, sku=sku, category=category, quantity=quantity, reorderPoint=reorder_point)
        for sku, category, quantity, reorder_point in CATALOGUE
    }


def test_list_items_without_filter_gives_every_item_in_sku_order(
    service: InventoryService, catalogue: dict[str, Json]
) -> None:
    page = listing(service)
    assert page == {"items": [catalogue[sku] for sku in sorted(catalogue)], "nextToken": None}


@pytest.mark.parametrize(
    ("item_filter", "expected"),
    [
        ({"category": "tools"}, ["A-1", "E-5", "F-6"]),
        ({"category": "garden"}, ["B-2", "D-4"]),
        ({"category": "nothing"}, []),
        ({"status": "AVAILABLE"}, ["A-1", "B-2", "C-3", "F-6"]),
        ({"status": "OUT_OF_STOCK"}, ["D-4", "E-5"]),
        ({"status": "DISCONTINUED"}, []),
        ({"lowStock": True}, ["D-4", "E-5", "F-6"]),
    ],
)
def test_list_items_serves_each_filter(
    service: InventoryService, catalogue: dict[str, Json], item_filter: Json, expected: list[str]
) -> None:
    assert skus(listing(service, filter=item_filter)) == expected


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 6, 7])
def test_walking_next_token_visits_every_item_once_in_sku_order(
    service: InventoryService, catalogue: dict[str, Json], limit: int
) -> None:
    pages = walk(lambda **page: listing(service, **page), limit)
    assert [sku for page in pages for sku in skus(page)] == sorted(catalogue)
    assert all(len(page["items"]) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]["items"]) <= limit
    assert pages[-1]["nextToken"] is None
    assert len(pages) == -(-len(catalogue) // limit)


@pytest.mark.parametrize(
    ("item_filter", "expected"),
    [
        ({"category": "tools"}, ["A-1", "E-5", "F-6"]),
        ({"status": "AVAILABLE"}, ["A-1", "B-2", "C-3", "F-6"]),
        ({"lowStock": True}, ["D-4", "E-5", "F-6"]),
    ],
)
def test_walking_a_filtered_listing_visits_every_match_once(
    service: InventoryService, catalogue: dict[str, Json], item_filter: Json, expected: list[str]
) -> None:
    pages = walk(lambda **page: listing(service, filter=item_filter, **page), 2)
    assert [sku for page in pages for sku in skus(page)] == expected
    assert pages[-1]["nextToken"] is None


@pytest.mark.parametrize(
    ("issued_for", "reused_with"),
    [
        (None, {"category": "tools"}),
        ({"category": "tools"}, {"category": "garden"}),
        ({"category": "tools"}, None),
        ({"status": "AVAILABLE"}, {"status": "OUT_OF_STOCK"}),
        ({"lowStock": True}, {"status": "AVAILABLE"}),
    ],
)
def test_a_next_token_reused_with_another_filter_is_a_validation_error(
    service: InventoryService, catalogue: dict[str, Json], issued_for: Json | None, reused_with: Json | None
) -> None:
    token = listing(service, filter=issued_for, limit=1)["nextToken"]
    assert token is not None
    info = fails("ValidationError", listing, service, filter=reused_with, limit=1, nextToken=token)
    assert info["field"] == "nextToken"


def test_an_altered_next_token_is_a_validation_error(service: InventoryService, catalogue: dict[str, Json]) -> None:
    token = listing(service, limit=2)["nextToken"]
    altered = token[:20] + ("x" if token[20] != "x" else "y") + token[21:]
    assert fails("ValidationError", listing, service, limit=2, nextToken=altered)["field"] == "nextToken"
    assert fails("ValidationError", listing, service, nextToken="made-up")["field"] == "nextToken"


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_a_limit_outside_1_to_100_is_a_validation_error(service: InventoryService, limit: int) -> None:
    assert fails("ValidationError", listing, service, limit=limit)["field"] == "limit"


def test_the_default_page_size_comes_from_settings(dynamodb: Any, settings: Settings, clock: Clock) -> None:
    custom = replace(settings, default_page_size=4)
    service = InventoryService(DynamoDBInventoryRepository(dynamodb, settings.table_name), custom, clock=clock)
    for sku, *_ in CATALOGUE:
        create(service, sku=sku)
    page = listing(service)
    assert skus(page) == ["A-1", "B-2", "C-3", "D-4"]
    assert skus(listing(service, nextToken=page["nextToken"])) == ["E-5", "F-6"]


# Item.movements


def test_movements_are_listed_newest_first_across_pages(service: InventoryService) -> None:
    item = create(service, quantity=10)
    for n, delta in enumerate([1, 2, -3, 4]):
        adjust(service, item["id"], delta, f"k{n}")
    pages = walk(lambda **page: movements(service, item["id"], **page), 2)
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    listed = [movement for page in pages for movement in page["items"]]
    assert [(m["delta"], m["quantityAfter"]) for m in listed] == [(4, 14), (-3, 10), (2, 13), (1, 11), (10, 10)]
    assert len({m["id"] for m in listed}) == 5
    assert pages[-1]["nextToken"] is None


def test_a_movements_token_of_another_item_is_a_validation_error(service: InventoryService) -> None:
    first = create(service, sku="A", quantity=1)
    second = create(service, sku="B", quantity=1)
    adjust(service, first["id"], 1, "k1")
    token = movements(service, first["id"], limit=1)["nextToken"]
    assert token is not None
    assert fails("ValidationError", movements, service, second["id"], nextToken=token)["field"] == "nextToken"


def test_a_listing_token_is_refused_for_movements(service: InventoryService) -> None:
    item = create(service, sku="A", quantity=1)
    create(service, sku="B")
    token = listing(service, limit=1)["nextToken"]
    assert fails("ValidationError", movements, service, item["id"], nextToken=token)["field"] == "nextToken"


def test_movement_limits_are_validated(service: InventoryService) -> None:
    item = create(service, quantity=1)
    assert fails("ValidationError", movements, service, item["id"], limit=0)["field"] == "limit"
    assert fails("ValidationError", movements, service, item["id"], limit=101)["field"] == "limit"
