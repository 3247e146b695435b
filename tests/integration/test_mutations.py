"""Every mutation of contract v1 and each of its errors, through mutations_handler with AppSync events, on
DynamoDB Local. A refusal is checked twice: the error envelope (type, info, a message that leaks nothing) and the
raw table, which must hold exactly what it held before."""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

import resolvers.runtime
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import INTERNAL_ERROR_MESSAGE
from tests.appsync import assert_no_leak, error_of, iam_identity, invoke_batch, is_error, mutate, query

if TYPE_CHECKING:
    from tests.integration.conftest import NewItem, TableView

AWS_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def refused(result: Any, error_type: str, table_name: str) -> dict[str, Any]:
    """The envelope's error, checked to be of ``error_type`` with a message that leaks nothing."""
    error = error_of(result)
    assert error["type"] == error_type, error
    assert_no_leak(error["message"], table_name)
    return error


def get_item(item_id: str) -> dict[str, Any] | None:
    result = query("getItem", {"id": item_id})
    assert not is_error(result), result
    return result  # type: ignore[no-any-return]


def movements(item: dict[str, Any], **arguments: Any) -> dict[str, Any]:
    (page,) = invoke_batch("Item", "movements", [item], arguments)
    assert not is_error(page), page
    return page  # type: ignore[no-any-return]


def adjust(item_id: str, delta: int, reason: str, key: str | None = None, reference: str | None = None) -> Any:
    adjustment = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": key or str(uuid.uuid4())}
    if reference is not None:
        adjustment["reference"] = reference
    return mutate("adjustStock", {"input": adjustment})


def fulfill(order_id: str, *lines: tuple[str, int]) -> Any:
    order = {"orderId": order_id, "lines": [{"itemId": item_id, "quantity": quantity} for item_id, quantity in lines]}
    return mutate("fulfillOrder", {"input": order})


CREATE_DEFAULTS = {"sku": "NEW-1", "name": "Hammer", "category": "tools", "price": 12.5}


# createItem


def test_create_item_returns_the_new_item_with_contract_defaults() -> None:
    item = mutate("createItem", {"input": CREATE_DEFAULTS})

    assert not is_error(item), item
    uuid.UUID(item["id"])
    assert {key: item[key] for key in item if key not in {"id", "createdAt", "updatedAt"}} == {
        "sku": "NEW-1",
        "name": "Hammer",
        "description": None,
        "category": "tools",
        "price": 12.5,
        "quantity": 0,
        "reorderPoint": 10,
        "status": "OUT_OF_STOCK",
        "lowStock": True,
        "version": 1,
        "onHand": 0,
        "reserved": 0,
        "available": 0,
        "levels": [],
    }
    assert AWS_DATETIME.match(item["createdAt"]) and item["updatedAt"] == item["createdAt"]
    assert get_item(item["id"]) == item
    assert movements(item) == {"items": [], "nextToken": None}


def test_create_item_with_stock_is_available_and_records_an_initial_received_movement() -> None:
    item = mutate(
        "createItem",
        {"input": {**CREATE_DEFAULTS, "quantity": 25, "reorderPoint": 5, "description": "Claw hammer"}},
    )

    assert (item["quantity"], item["reorderPoint"], item["status"], item["lowStock"]) == (25, 5, "AVAILABLE", False)
    assert item["description"] == "Claw hammer"
    (movement,) = movements(item)["items"]
    assert {key: movement[key] for key in ("itemId", "delta", "quantityAfter", "reason", "reference")} == {
        "itemId": item["id"],
        "delta": 25,
        "quantityAfter": 25,
        "reason": "RECEIVED",
        "reference": "initial stock",
    }
    assert movement["createdAt"] == item["createdAt"]


def test_create_item_takes_the_default_reorder_point_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVENTORY_DEFAULT_REORDER_POINT", "3")
    resolvers.runtime.service.cache_clear()

    item = mutate("createItem", {"input": {**CREATE_DEFAULTS, "quantity": 4}})

    assert (item["reorderPoint"], item["lowStock"]) == (3, False)


def test_create_item_works_the_same_for_an_iam_caller() -> None:
    item = mutate("createItem", {"input": CREATE_DEFAULTS}, identity=iam_identity())

    assert not is_error(item), item
    assert get_item(item["id"]) == item


@pytest.mark.parametrize(("price", "stored"), [(0.1, "0.1"), (19.99, "19.99"), (0, "0"), (1_000_000_000, "1000000000")])
def test_create_item_stores_the_price_exactly_as_a_dynamodb_number(table: TableView, price: float, stored: str) -> None:
    item = mutate("createItem", {"input": {**CREATE_DEFAULTS, "price": price}})

    assert get_item(item["id"])["price"] == price  # type: ignore[index]
    record = table.get(f"ITEM#{item['id']}", "ITEM")
    assert record is not None
    assert record["price"] == {"N": stored}  # a decimal number, not a binary float's expansion (0.1000000000000000055)


def test_create_item_with_a_taken_sku_gives_duplicate_sku_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    first = new_item(sku="DUP-1", quantity=3)
    before = table.records()

    result = mutate("createItem", {"input": {**CREATE_DEFAULTS, "sku": "DUP-1", "quantity": 7}})

    error = refused(result, "DuplicateSku", table_name)
    assert error["info"] == {"sku": "DUP-1"}
    assert "DUP-1" in error["message"]
    assert table.records() == before
    assert query("getItemBySku", {"sku": "DUP-1"}) == first


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sku": ""}, "input.sku"),
        ({"sku": " PAD"}, "input.sku"),
        ({"sku": "PAD "}, "input.sku"),
        ({"sku": "S" * 65}, "input.sku"),
        ({"name": ""}, "input.name"),
        ({"name": "n" * 201}, "input.name"),
        ({"description": "d" * 2001}, "input.description"),
        ({"category": ""}, "input.category"),
        ({"category": "c" * 65}, "input.category"),
        ({"price": -0.01}, "input.price"),
        ({"price": 0.001}, "input.price"),
        ({"price": 1_000_000_000.01}, "input.price"),
        ({"quantity": -1}, "input.quantity"),
        ({"quantity": 1_000_000_001}, "input.quantity"),
        ({"reorderPoint": -1}, "input.reorderPoint"),
        ({"reorderPoint": 1_000_000_001}, "input.reorderPoint"),
    ],
)
def test_create_item_out_of_bounds_gives_validation_error_naming_the_field_and_writes_nothing(
    table: TableView, table_name: str, change: dict[str, Any], field: str
) -> None:
    result = mutate("createItem", {"input": {**CREATE_DEFAULTS, "quantity": 5, **change}})

    error = refused(result, "ValidationError", table_name)
    assert error["info"]["field"] == field
    assert set(error["info"]) == {"field", "reason"} and error["info"]["reason"]
    assert field in error["message"]
    assert table.records() == []


def test_create_item_accepts_the_bounds_themselves() -> None:
    item = mutate(
        "createItem",
        {
            "input": {
                "sku": "S" * 64,
                "name": "n" * 200,
                "description": "d" * 2000,
                "category": "c" * 64,
                "price": 1_000_000_000,
                "quantity": 1_000_000_000,
                "reorderPoint": 1_000_000_000,
            }
        },
    )

    assert not is_error(item), item
    assert (item["quantity"], item["reorderPoint"], item["lowStock"]) == (1_000_000_000, 1_000_000_000, True)


# updateItem


def test_update_item_changes_the_given_fields_and_bumps_the_version(new_item: NewItem) -> None:
    item = new_item(description="old", quantity=4, reorderPoint=2)
    time.sleep(0.002)

    updated = mutate(
        "updateItem",
        {
            "input": {
                "id": item["id"],
                "expectedVersion": 1,
                "name": "Renamed",
                "category": "garden",
                "price": 0.3,
                "reorderPoint": 4,
            }
        },
    )

    assert not is_error(updated), updated
    assert updated == {
        **item,
        "name": "Renamed",
        "category": "garden",
        "price": 0.3,
        "reorderPoint": 4,
        "lowStock": True,
        "version": 2,
        "updatedAt": updated["updatedAt"],
    }
    assert updated["updatedAt"] > item["updatedAt"] and updated["createdAt"] == item["createdAt"]
    assert get_item(item["id"]) == updated


def test_update_item_with_explicit_null_description_clears_it(new_item: NewItem) -> None:
    item = new_item(description="to be cleared")

    updated = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "description": None}})

    assert updated["description"] is None and updated["version"] == 2
    assert get_item(item["id"])["description"] is None  # type: ignore[index]


def test_update_item_with_a_stale_version_gives_version_conflict_and_keeps_the_item(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    item = new_item()
    mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "Second"}})
    before = table.records()

    result = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "Lost edit"}})

    error = refused(result, "VersionConflict", table_name)
    assert error["info"] == {"expectedVersion": 1, "currentVersion": 2}
    assert table.records() == before
    assert get_item(item["id"])["name"] == "Second"  # type: ignore[index]


def test_update_item_of_an_absent_item_gives_item_not_found(table: TableView, table_name: str) -> None:
    missing = str(uuid.uuid4())

    result = mutate("updateItem", {"input": {"id": missing, "expectedVersion": 1, "name": "Ghost"}})

    error = refused(result, "ItemNotFound", table_name)
    assert error["info"] == {"id": missing}
    assert table.records() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "input"),
        ({"name": None}, "input.name"),
        ({"category": None}, "input.category"),
        ({"price": None}, "input.price"),
        ({"reorderPoint": None}, "input.reorderPoint"),
        ({"status": None}, "input.status"),
        ({"status": "OUT_OF_STOCK"}, "input.status"),
        ({"status": "SOLD_OUT"}, "input.status"),
        ({"name": ""}, "input.name"),
        ({"price": 2.345}, "input.price"),
        ({"reorderPoint": -1}, "input.reorderPoint"),
        ({"description": "d" * 2001}, "input.description"),
        ({"expectedVersion": 0, "name": "x"}, "input.expectedVersion"),
    ],
)
def test_update_item_invalid_input_gives_validation_error_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str, change: dict[str, Any], field: str
) -> None:
    item = new_item()
    before = table.records()

    result = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, **change}})

    error = refused(result, "ValidationError", table_name)
    assert error["info"]["field"] == field
    assert table.records() == before


def test_update_item_checks_validation_before_existence(table_name: str) -> None:
    result = mutate("updateItem", {"input": {"id": str(uuid.uuid4()), "expectedVersion": 1, "price": 1.001}})

    assert refused(result, "ValidationError", table_name)["info"]["field"] == "input.price"


def test_update_item_checks_existence_before_version(table_name: str) -> None:
    missing = str(uuid.uuid4())

    result = mutate("updateItem", {"input": {"id": missing, "expectedVersion": 7, "name": "x"}})

    assert refused(result, "ItemNotFound", table_name)["info"] == {"id": missing}


def test_discontinued_item_is_never_low_stock_and_available_again_with_no_stock_is_out_of_stock(
    new_item: NewItem,
) -> None:
    item = new_item()  # quantity 0: OUT_OF_STOCK and low on stock

    discontinued = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "status": "DISCONTINUED"}})
    assert (discontinued["status"], discontinued["lowStock"]) == ("DISCONTINUED", False)
    assert query("listItems", {"filter": {"lowStock": True}})["items"] == []

    again = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 2, "status": "AVAILABLE"}})
    assert (again["status"], again["lowStock"], again["version"]) == ("OUT_OF_STOCK", True, 3)
    assert query("listItems", {"filter": {"lowStock": True}})["items"] == [again]
    assert query("listItems", {"filter": {"status": "OUT_OF_STOCK"}})["items"] == [again]


def test_available_on_a_discontinued_item_with_stock_makes_it_available(new_item: NewItem) -> None:
    item = new_item(quantity=3)
    mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "status": "DISCONTINUED"}})

    again = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 2, "status": "AVAILABLE"}})

    assert (again["status"], again["quantity"]) == ("AVAILABLE", 3)


def test_stock_changes_do_not_bump_version_so_a_pending_edit_still_applies(new_item: NewItem) -> None:
    item = new_item(quantity=10)
    assert not is_error(adjust(item["id"], -3, "SOLD"))
    assert not is_error(fulfill("order-1", (item["id"], 2)))

    updated = mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "Edited"}})

    assert not is_error(updated), updated
    assert (updated["version"], updated["quantity"], updated["name"]) == (2, 5, "Edited")


# deleteItem


def test_delete_item_returns_the_item_and_frees_its_sku(new_item: NewItem) -> None:
    item = new_item(sku="FREE-ME", quantity=2)

    deleted = mutate("deleteItem", {"id": item["id"]})

    assert deleted == item
    assert get_item(item["id"]) is None
    assert query("getItemBySku", {"sku": "FREE-ME"}) is None
    assert query("listItems", {})["items"] == []
    reborn = mutate("createItem", {"input": {**CREATE_DEFAULTS, "sku": "FREE-ME"}})
    assert not is_error(reborn), reborn
    assert reborn["id"] != item["id"]
    assert query("getItemBySku", {"sku": "FREE-ME"}) == reborn


def test_delete_item_returns_the_item_as_it_is_now(new_item: NewItem) -> None:
    item = new_item(quantity=2)
    adjust(item["id"], 5, "RECEIVED")
    mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "Latest"}})

    deleted = mutate("deleteItem", {"id": item["id"]})

    assert (deleted["quantity"], deleted["name"], deleted["version"]) == (7, "Latest", 2)


def test_delete_item_keeps_the_movements_for_audit(new_item: NewItem, table: TableView) -> None:
    item = new_item(quantity=5)
    adjust(item["id"], -2, "SOLD")

    mutate("deleteItem", {"id": item["id"]})

    assert [key for key in table.record_keys() if not key[0].startswith("REQUEST#")] == [
        (f"ITEM#{item['id']}", "MOVEMENT#000000000001"),
        (f"ITEM#{item['id']}", "MOVEMENT#000000000002"),
    ]


def test_delete_item_of_an_absent_item_returns_null_and_writes_nothing(new_item: NewItem, table: TableView) -> None:
    new_item()
    before = table.records()

    assert mutate("deleteItem", {"id": str(uuid.uuid4())}) is None
    assert table.records() == before


def test_delete_item_with_an_empty_id_gives_validation_error(table_name: str) -> None:
    error = refused(mutate("deleteItem", {"id": ""}), "ValidationError", table_name)

    assert error["info"]["field"] == "id"


# adjustStock


def test_adjust_stock_returns_the_movement_and_moves_the_stock_without_bumping_version(new_item: NewItem) -> None:
    item = new_item(quantity=4, reorderPoint=5)

    movement = adjust(item["id"], 6, "RECEIVED", key="delivery-1", reference="DN-77")

    assert not is_error(movement), movement
    uuid.UUID(movement["id"])
    assert {key: movement[key] for key in ("itemId", "delta", "quantityAfter", "reason", "reference")} == {
        "itemId": item["id"],
        "delta": 6,
        "quantityAfter": 10,
        "reason": "RECEIVED",
        "reference": "DN-77",
    }
    assert AWS_DATETIME.match(movement["createdAt"])
    after = get_item(item["id"])
    assert after is not None
    assert (after["quantity"], after["status"], after["lowStock"], after["version"]) == (10, "AVAILABLE", False, 1)
    assert after["updatedAt"] == movement["createdAt"]
    assert movements(item)["items"][0] == movement


def test_adjust_stock_to_zero_makes_the_item_out_of_stock(new_item: NewItem) -> None:
    item = new_item(quantity=3)

    movement = adjust(item["id"], -3, "DAMAGED")

    assert movement["quantityAfter"] == 0
    assert get_item(item["id"])["status"] == "OUT_OF_STOCK"  # type: ignore[index]


def test_correction_moves_stock_either_way(new_item: NewItem) -> None:
    item = new_item(quantity=3)

    assert adjust(item["id"], -1, "CORRECTION")["quantityAfter"] == 2
    assert adjust(item["id"], 4, "CORRECTION")["quantityAfter"] == 6


def test_adjust_stock_below_zero_gives_insufficient_stock_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    item = new_item(quantity=3)
    before = table.records()

    result = adjust(item["id"], -5, "SOLD", key="too-many")

    error = refused(result, "InsufficientStock", table_name)
    assert error["info"] == {"lines": [{"itemId": item["id"], "available": 3, "requested": 5}]}
    assert table.records() == before


def test_adjust_stock_of_an_absent_item_gives_item_not_found_and_writes_nothing(
    table: TableView, table_name: str
) -> None:
    missing = str(uuid.uuid4())

    error = refused(adjust(missing, 1, "RECEIVED"), "ItemNotFound", table_name)

    assert error["info"] == {"id": missing}
    assert table.records() == []


def test_adjust_stock_replay_returns_the_first_movement_and_applies_nothing(
    new_item: NewItem, table: TableView
) -> None:
    item = new_item(quantity=10)
    first = adjust(item["id"], -4, "SOLD", key="sale-1", reference="till 3")
    before = table.records()

    replay = adjust(item["id"], -4, "SOLD", key="sale-1", reference="till 3")

    assert replay == first
    assert table.records() == before
    assert get_item(item["id"])["quantity"] == 6  # type: ignore[index]


def test_adjust_stock_replay_returns_the_first_result_even_after_the_stock_changed(new_item: NewItem) -> None:
    item = new_item(quantity=5)
    first = adjust(item["id"], -5, "SOLD", key="sale-all")
    adjust(item["id"], 2, "RETURNED")

    replay = adjust(item["id"], -5, "SOLD", key="sale-all")

    assert replay == first and replay["quantityAfter"] == 0
    assert get_item(item["id"])["quantity"] == 2  # type: ignore[index]


def test_adjust_stock_replay_still_answers_after_the_item_was_deleted(new_item: NewItem) -> None:
    item = new_item(quantity=5)
    first = adjust(item["id"], -1, "SOLD", key="before-delete")
    mutate("deleteItem", {"id": item["id"]})

    assert adjust(item["id"], -1, "SOLD", key="before-delete") == first


@pytest.mark.parametrize(
    "other",
    [
        {"delta": -2},
        {"reason": "DAMAGED"},
        {"reference": "another till"},
    ],
)
def test_adjust_stock_same_key_with_other_input_gives_idempotency_conflict_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str, other: dict[str, Any]
) -> None:
    item = new_item(quantity=10)
    adjust(item["id"], -1, "SOLD", key="key-1", reference="till 3")
    before = table.records()
    adjustment = {"itemId": item["id"], "delta": -1, "reason": "SOLD", "reference": "till 3", "idempotencyKey": "key-1"}

    result = mutate("adjustStock", {"input": {**adjustment, **other}})

    error = refused(result, "IdempotencyConflict", table_name)
    assert error["info"] == {"key": "key-1"}
    assert table.records() == before


def test_adjust_stock_keys_are_global_across_items(new_item: NewItem, table_name: str) -> None:
    first, second = new_item(quantity=5), new_item(quantity=5)
    adjust(first["id"], -1, "SOLD", key="shared-key")

    error = refused(adjust(second["id"], -1, "SOLD", key="shared-key"), "IdempotencyConflict", table_name)

    assert error["info"] == {"key": "shared-key"}
    assert get_item(second["id"])["quantity"] == 5  # type: ignore[index]


def test_a_refused_adjust_stock_does_not_use_up_its_key(new_item: NewItem) -> None:
    item = new_item(quantity=2)
    assert error_of(adjust(item["id"], -3, "SOLD", key="retry-me"))["type"] == "InsufficientStock"
    assert error_of(adjust(item["id"], 0, "SOLD", key="retry-me"))["type"] == "ValidationError"

    movement = adjust(item["id"], -2, "SOLD", key="retry-me")

    assert not is_error(movement), movement
    assert movement["quantityAfter"] == 0


def test_adjust_stock_remembers_its_key_for_at_least_24_hours(new_item: NewItem, table: TableView) -> None:
    item = new_item(quantity=1)
    started = time.time()

    adjust(item["id"], 1, "RECEIVED", key="ttl-key")

    record = table.get("REQUEST#adjustStock#ttl-key", "REQUEST")
    assert record is not None
    expires = int(record["expiresAt"]["N"])
    assert started + 24 * 3600 - 1 <= expires <= time.time() + 25 * 3600


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"delta": 0}, "input.delta"),
        ({"delta": 1_000_000_001, "reason": "RECEIVED"}, "input.delta"),
        ({"delta": -1_000_000_001}, "input.delta"),
        ({"delta": 2}, "input.delta"),  # SOLD needs delta < 0
        ({"delta": -2, "reason": "RECEIVED"}, "input.delta"),
        ({"delta": -2, "reason": "RETURNED"}, "input.delta"),
        ({"delta": 2, "reason": "DAMAGED"}, "input.delta"),
        ({"reason": "STOLEN"}, "input.reason"),
        ({"reference": "r" * 201}, "input.reference"),
        ({"idempotencyKey": ""}, "input.idempotencyKey"),
        ({"idempotencyKey": "k" * 129}, "input.idempotencyKey"),
        ({"itemId": ""}, "input.itemId"),
    ],
)
def test_adjust_stock_invalid_input_gives_validation_error_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str, change: dict[str, Any], field: str
) -> None:
    item = new_item(quantity=5)
    before = table.records()
    adjustment = {"itemId": item["id"], "delta": -1, "reason": "SOLD", "idempotencyKey": "k-1", **change}

    error = refused(mutate("adjustStock", {"input": adjustment}), "ValidationError", table_name)

    assert error["info"]["field"] == field
    assert table.records() == before


def test_adjust_stock_checks_validation_before_existence(table_name: str) -> None:
    error = refused(adjust(str(uuid.uuid4()), 0, "CORRECTION"), "ValidationError", table_name)

    assert error["info"]["field"] == "input.delta"


def test_adjust_stock_never_raises_stock_above_the_maximum(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    item = new_item(quantity=1_000_000_000)
    before = table.records()

    error = refused(adjust(item["id"], 1, "RECEIVED"), "ValidationError", table_name)

    assert error["info"]["field"] == "input.delta"
    assert table.records() == before


# fulfillOrder


def test_fulfill_order_sells_every_line_and_returns_sold_movements_in_line_order(new_item: NewItem) -> None:
    first, second, third = new_item(quantity=5), new_item(quantity=8), new_item(quantity=2)

    result = fulfill("order-100", (second["id"], 3), (first["id"], 5), (third["id"], 1))

    assert not is_error(result), result
    assert result["orderId"] == "order-100"
    assert [
        (m["itemId"], m["delta"], m["quantityAfter"], m["reason"], m["reference"]) for m in result["movements"]
    ] == [
        (second["id"], -3, 5, "SOLD", "order-100"),
        (first["id"], -5, 0, "SOLD", "order-100"),
        (third["id"], -1, 1, "SOLD", "order-100"),
    ]
    assert len({m["id"] for m in result["movements"]}) == 3
    assert [(get_item(i["id"]) or {}).get("quantity") for i in (first, second, third)] == [0, 5, 1]
    assert get_item(first["id"])["status"] == "OUT_OF_STOCK"  # type: ignore[index]
    assert movements(second)["items"][0] == result["movements"][0]


def test_fulfill_order_short_lines_give_insufficient_stock_listing_each_and_write_nothing(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    plenty, short, empty = new_item(quantity=10), new_item(quantity=2), new_item()
    before = table.records()

    result = fulfill("order-short", (plenty["id"], 1), (short["id"], 3), (empty["id"], 1))

    error = refused(result, "InsufficientStock", table_name)
    assert error["info"] == {
        "lines": [
            {"itemId": short["id"], "available": 2, "requested": 3},
            {"itemId": empty["id"], "available": 0, "requested": 1},
        ]
    }
    assert table.records() == before


def test_fulfill_order_with_an_absent_item_gives_item_not_found_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    item = new_item(quantity=10)
    missing = str(uuid.uuid4())
    before = table.records()

    error = refused(fulfill("order-ghost", (item["id"], 1), (missing, 1)), "ItemNotFound", table_name)

    assert error["info"] == {"id": missing}
    assert table.records() == before


def test_fulfill_order_checks_existence_before_stock(new_item: NewItem, table_name: str) -> None:
    short = new_item(quantity=0)
    missing = str(uuid.uuid4())

    error = refused(fulfill("order-order", (short["id"], 5), (missing, 1)), "ItemNotFound", table_name)

    assert error["info"] == {"id": missing}


def test_fulfill_order_replay_returns_the_first_result_and_applies_nothing(new_item: NewItem, table: TableView) -> None:
    first, second = new_item(quantity=5), new_item(quantity=5)
    original = fulfill("order-200", (first["id"], 2), (second["id"], 1))
    adjust(first["id"], 10, "RECEIVED")
    before = table.records()

    replay = fulfill("order-200", (first["id"], 2), (second["id"], 1))

    assert replay == original
    assert table.records() == before
    assert [get_item(i["id"])["quantity"] for i in (first, second)] == [13, 4]  # type: ignore[index]


def test_fulfill_order_same_id_with_other_lines_gives_idempotency_conflict_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str
) -> None:
    first, second = new_item(quantity=5), new_item(quantity=5)
    fulfill("order-300", (first["id"], 1))
    before = table.records()

    for lines in ([(first["id"], 2)], [(first["id"], 1), (second["id"], 1)], [(second["id"], 1)]):
        error = refused(fulfill("order-300", *lines), "IdempotencyConflict", table_name)
        assert error["info"] == {"key": "order-300"}
    assert table.records() == before


def test_a_refused_order_does_not_use_up_its_order_id(new_item: NewItem) -> None:
    item = new_item(quantity=1)
    assert error_of(fulfill("order-400", (item["id"], 2)))["type"] == "InsufficientStock"
    assert error_of(fulfill("order-400", (item["id"], 1), (item["id"], 1)))["type"] == "ValidationError"

    result = fulfill("order-400", (item["id"], 1))

    assert not is_error(result), result
    assert result["movements"][0]["quantityAfter"] == 0


@pytest.mark.parametrize(
    "case",
    [
        ("o-1", "NONE", "input.lines"),
        ("", "ONE", "input.orderId"),
        ("o" * 129, "ONE", "input.orderId"),
        ("o-1", "TWENTY_SIX", "input.lines"),
        ("o-1", "REPEATED", "input.lines[1].itemId"),
        ("o-1", "ZERO", "input.lines[0].quantity"),
        ("o-1", "EMPTY_ID", "input.lines[0].itemId"),
    ],
)
def test_fulfill_order_invalid_input_gives_validation_error_and_writes_nothing(
    new_item: NewItem, table: TableView, table_name: str, case: tuple[str, str, str]
) -> None:
    order_id, lines, field = case
    item = new_item(quantity=100)
    line = {"itemId": item["id"], "quantity": 1}
    order_lines = {
        "NONE": [],
        "ONE": [line],
        "TWENTY_SIX": [line] + [{"itemId": str(uuid.uuid4()), "quantity": 1} for _ in range(25)],
        "REPEATED": [line, {**line, "quantity": 2}],
        "ZERO": [{**line, "quantity": 0}],
        "EMPTY_ID": [{**line, "itemId": ""}],
    }[lines]
    before = table.records()

    result = mutate("fulfillOrder", {"input": {"orderId": order_id, "lines": order_lines}})

    assert refused(result, "ValidationError", table_name)["info"]["field"] == field
    assert table.records() == before


# Unexpected failures


def test_an_unexpected_failure_gives_internal_error_without_details_and_logs_them(
    new_item: NewItem,
    table: TableView,
    table_name: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    item = new_item(quantity=5)
    before = table.records()

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"boom {table_name}")

    monkeypatch.setattr(DynamoDBInventoryRepository, "apply_stock_changes", explode)

    error = error_of(adjust(item["id"], -1, "SOLD"))

    assert error == {"type": "InternalError", "message": INTERNAL_ERROR_MESSAGE, "info": None}
    assert_no_leak(error["message"], "boom", table_name, "RuntimeError")
    assert table.records() == before
    (logged,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert logged.exc_info is not None and str(logged.exc_info[1]) == f"boom {table_name}", "details go to the log"


def test_a_dynamodb_failure_gives_internal_error_without_botocore_text_or_table_name(
    new_item: NewItem, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = new_item(quantity=5)
    monkeypatch.setenv("INVENTORY_TABLE_NAME", "inventory-missing-table")  # every call: ResourceNotFoundException
    resolvers.runtime.service.cache_clear()

    for result in (
        adjust(item["id"], -1, "SOLD"),
        mutate("createItem", {"input": CREATE_DEFAULTS}),
        mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "x"}}),
        mutate("deleteItem", {"id": item["id"]}),
        fulfill("order-x", (item["id"], 1)),
    ):
        error = error_of(result)
        assert error == {"type": "InternalError", "message": INTERNAL_ERROR_MESSAGE, "info": None}
        assert_no_leak(error["message"], "inventory-missing-table", table_name)
