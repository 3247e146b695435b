"""Locations and per-location stock (contract v2) through the handlers on DynamoDB Local: MAIN always exists, codes
are unique, at most 100 locations; createItem, adjustStock and fulfillOrder act at a given location (MAIN when none
is given), and every refusal writes nothing."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.locations import Locations
from inventory.model import MAX_LOCATIONS, Location
from tests.appsync import mutate, query
from tests.integration.stock import (
    adjust,
    assert_ledger,
    commit,
    create_location,
    fulfill,
    invalid,
    item,
    movements,
    ok,
    refused,
    release,
    reserve,
    snapshot,
)

if TYPE_CHECKING:
    from tests.integration.conftest import NewItem, TableView

AWS_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MAIN = {
    "id": "MAIN",
    "code": "MAIN",
    "name": "Main location",
    "isDefault": True,
    "createdAt": "1970-01-01T00:00:00.000Z",
}


def test_main_exists_before_anyone_creates_a_location(table: TableView) -> None:
    assert query("listLocations") == [MAIN]
    assert query("getLocation", {"id": "MAIN"}) == MAIN
    assert query("getLocation", {"id": "nowhere"}) is None
    assert table.records() == []  # MAIN is virtual: nothing was stored


def test_create_location_returns_it_and_list_locations_orders_them_by_code() -> None:
    north = create_location("NORTH-1", "North warehouse")
    east = create_location("EAST", "East shop")

    uuid.UUID(north["id"])
    assert {key: north[key] for key in ("code", "name", "isDefault")} == {
        "code": "NORTH-1",
        "name": "North warehouse",
        "isDefault": False,
    }
    assert AWS_DATETIME.match(north["createdAt"])
    assert query("getLocation", {"id": north["id"]}) == north
    assert query("listLocations") == [east, MAIN, north]


def test_update_location_renames_it_and_keeps_the_rest() -> None:
    north = create_location("NORTH")

    renamed = ok(mutate("updateLocation", {"input": {"id": north["id"], "name": "North, renamed"}}))

    assert renamed == {**north, "name": "North, renamed"}
    assert query("getLocation", {"id": north["id"]}) == renamed
    main = ok(mutate("updateLocation", {"input": {"id": "MAIN", "name": "Head office"}}))
    assert main == {**MAIN, "name": "Head office"}  # still the default, still created at the epoch
    assert query("listLocations") == [main, renamed]


def test_update_location_of_an_unknown_id_gives_location_not_found_and_writes_nothing(table: TableView) -> None:
    create_location("WEST")
    before = table.records()

    result = mutate("updateLocation", {"input": {"id": "nowhere", "name": "x"}})

    assert refused(result, "LocationNotFound") == {"id": "nowhere"}
    assert table.records() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "input.code"),
        ({"code": "lower"}, "input.code"),
        ({"code": "WITH SPACE"}, "input.code"),
        ({"code": "UNDER_SCORE"}, "input.code"),
        ({"code": "C" * 33}, "input.code"),
        ({"name": ""}, "input.name"),
        ({"name": "n" * 201}, "input.name"),
    ],
)
def test_create_location_out_of_bounds_gives_validation_error_and_writes_nothing(
    table: TableView, change: dict[str, Any], field: str
) -> None:
    result = mutate("createLocation", {"input": {"code": "OK", "name": "ok", **change}})

    invalid(result, field)
    assert table.records() == []


def test_create_location_accepts_the_bounds_of_code_and_name() -> None:
    location = create_location("A-Z-0-9-" + "X" * 24, "n" * 200)

    assert len(location["code"]) == 32


@pytest.mark.parametrize(
    ("field", "arguments", "path"),
    [
        ("updateLocation", {"input": {"id": "MAIN", "name": ""}}, "input.name"),
        ("updateLocation", {"input": {"id": "MAIN", "name": "n" * 201}}, "input.name"),
        ("updateLocation", {"input": {"id": "", "name": "n"}}, "input.id"),
        ("getLocation", {"id": ""}, "id"),
        ("getReservation", {"id": "r" * 129}, "id"),
    ],
)
def test_location_and_reservation_ids_and_names_out_of_bounds_give_validation_error(
    table: TableView, field: str, arguments: dict[str, Any], path: str
) -> None:
    invalid(mutate(field, arguments) if field == "updateLocation" else query(field, arguments), path)

    assert table.records() == []


@pytest.mark.parametrize("code", ["DEPOT", "MAIN"])
def test_a_taken_code_gives_duplicate_location_code_and_writes_nothing(table: TableView, code: str) -> None:
    create_location("DEPOT")
    before = table.records()

    result = mutate("createLocation", {"input": {"code": code, "name": "again"}})

    assert refused(result, "DuplicateLocationCode") == {"code": code}
    assert table.records() == before


def test_the_hundred_and_first_location_is_a_validation_error_but_a_taken_code_stays_a_duplicate(
    table: TableView, admin_client: Any, table_name: str
) -> None:
    # 98 stored at once through the adapter (creating each through the API takes seconds), the 99th through the
    # API: with MAIN, a hundred.
    seeded = {
        f"id-{number:03d}": Location(f"id-{number:03d}", f"L-{number:03d}", "seeded", "2026-01-01T00:00:00.000Z")
        for number in range(MAX_LOCATIONS - 2)
    }
    DynamoDBInventoryRepository(admin_client, table_name).put_locations(Locations(), Locations(seeded, 1))
    create_location("L-098")
    assert len(query("listLocations")) == MAX_LOCATIONS
    before = table.records()

    invalid(mutate("createLocation", {"input": {"code": "ONE-TOO-MANY", "name": "x"}}), "input.code")
    assert refused(mutate("createLocation", {"input": {"code": "L-007", "name": "x"}}), "DuplicateLocationCode") == {
        "code": "L-007"
    }
    assert refused(mutate("createLocation", {"input": {"code": "MAIN", "name": "x"}}), "DuplicateLocationCode") == {
        "code": "MAIN"
    }
    assert table.records() == before


# Stock at a location


def test_create_item_puts_its_initial_quantity_at_the_given_location(new_item: NewItem) -> None:
    depot = create_location("DEPOT")

    created = new_item(quantity=7, locationId=depot["id"])

    assert (created["quantity"], created["onHand"], created["reserved"], created["available"]) == (7, 7, 0, 7)
    assert created["levels"] == [
        {"locationId": depot["id"], "locationCode": "DEPOT", "onHand": 7, "reserved": 0, "available": 7}
    ]
    (movement,) = movements(created["id"])
    assert (movement["locationId"], movement["locationQuantityAfter"], movement["quantityAfter"]) == (depot["id"], 7, 7)
    assert item(created["id"]) == created


def test_create_item_without_a_location_puts_its_quantity_at_main(new_item: NewItem) -> None:
    created = new_item(quantity=3)
    explicit = new_item(quantity=3, locationId="MAIN")

    for found in (created, explicit):
        assert found["levels"] == [
            {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 3, "reserved": 0, "available": 3}
        ]
        (movement,) = movements(found["id"])
        assert (movement["locationId"], movement["locationQuantityAfter"]) == ("MAIN", 3)


def test_create_item_at_an_unknown_location_gives_location_not_found_and_writes_nothing(table: TableView) -> None:
    result = mutate(
        "createItem", {"input": {"sku": "X", "name": "x", "category": "c", "price": 1, "locationId": "nowhere"}}
    )

    assert refused(result, "LocationNotFound") == {"id": "nowhere"}
    assert table.records() == []


def test_adjust_stock_acts_at_its_location_and_levels_sum_to_the_item(new_item: NewItem) -> None:
    depot, shop = create_location("DEPOT"), create_location("SHOP")
    created = new_item(quantity=5)

    first = ok(adjust(created["id"], 4, "RECEIVED", locationId=shop["id"]))
    second = ok(adjust(created["id"], 6, "RECEIVED", locationId=depot["id"]))
    third = ok(adjust(created["id"], -1, "DAMAGED", locationId=shop["id"]))

    assert [(m["locationId"], m["locationQuantityAfter"], m["quantityAfter"]) for m in (first, second, third)] == [
        (shop["id"], 4, 9),
        (depot["id"], 6, 15),
        (shop["id"], 3, 14),
    ]
    after = assert_ledger(created["id"])
    assert [(level["locationCode"], level["onHand"]) for level in after["levels"]] == [
        ("DEPOT", 6),
        ("MAIN", 5),
        ("SHOP", 3),
    ]
    assert (after["onHand"], after["quantity"], after["available"]) == (14, 14, 14)


def test_a_location_whose_stock_runs_out_leaves_the_levels(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=2)
    ok(adjust(created["id"], 1, "RECEIVED", locationId=shop["id"]))

    ok(adjust(created["id"], -1, "SOLD", locationId=shop["id"]))

    after = assert_ledger(created["id"])
    assert [level["locationId"] for level in after["levels"]] == ["MAIN"]


def test_decreases_draw_on_the_stock_at_their_location_only(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=10)
    ok(adjust(created["id"], 2, "RECEIVED", locationId=shop["id"]))
    before = snapshot(table, created["id"])

    short = adjust(created["id"], -3, "SOLD", locationId=shop["id"])
    order = fulfill("order-shop", [(created["id"], 3)], locationId=shop["id"])

    line = {"itemId": created["id"], "available": 2, "requested": 3}  # the shop's 2, not the item's 12
    assert refused(short, "InsufficientStock") == {"lines": [line]}
    assert refused(order, "InsufficientStock") == {"lines": [line]}
    assert snapshot(table, created["id"]) == before


def test_fulfill_order_takes_the_whole_order_from_its_location(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    first, second = new_item(quantity=1), new_item(quantity=1)
    for created in (first, second):
        ok(adjust(created["id"], 5, "RECEIVED", locationId=shop["id"]))

    order = ok(fulfill("order-1", [(first["id"], 2), (second["id"], 5)], locationId=shop["id"]))

    assert [
        (m["locationId"], m["delta"], m["locationQuantityAfter"], m["quantityAfter"]) for m in order["movements"]
    ] == [
        (shop["id"], -2, 3, 4),
        (shop["id"], -5, 0, 1),
    ]
    assert [level["locationId"] for level in assert_ledger(second["id"])["levels"]] == ["MAIN"]


@pytest.mark.parametrize("operation", ["adjustStock", "fulfillOrder"])
def test_an_unknown_location_gives_location_not_found_before_an_unknown_item_and_writes_nothing(
    table: TableView, new_item: NewItem, operation: str
) -> None:
    created = new_item(quantity=1)
    before = snapshot(table, created["id"])

    for item_id in (created["id"], "no-such-item"):
        if operation == "adjustStock":
            result = adjust(item_id, -1, "SOLD", locationId="nowhere")
        else:
            result = fulfill(f"order-{item_id}", [(item_id, 1)], locationId="nowhere")
        assert refused(result, "LocationNotFound") == {"id": "nowhere"}
    assert snapshot(table, created["id"]) == before
    # A refused request does not use its key up.
    shop = create_location("NOWHERE-NOW")
    assert refused(fulfill("order-no-such-item", [("no-such-item", 1)], locationId=shop["id"]), "ItemNotFound") == {
        "id": "no-such-item"
    }


@pytest.mark.parametrize("reason", ["TRANSFER_OUT", "TRANSFER_IN"])
def test_adjust_stock_cannot_make_transfer_movements(new_item: NewItem, table: TableView, reason: str) -> None:
    created = new_item(quantity=5)
    before = snapshot(table, created["id"])

    invalid(adjust(created["id"], -1 if reason == "TRANSFER_OUT" else 1, reason), "input.reason")

    assert snapshot(table, created["id"]) == before


def test_the_item_total_stays_at_most_a_billion_across_locations(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=999_999_999)
    before = snapshot(table, created["id"])

    invalid(adjust(created["id"], 2, "RECEIVED", locationId=shop["id"]), "input.delta")

    assert snapshot(table, created["id"]) == before
    assert ok(adjust(created["id"], 1, "RECEIVED", locationId=shop["id"]))["quantityAfter"] == 1_000_000_000


def test_fulfill_order_replayed_at_another_location_is_an_idempotency_conflict(
    new_item: NewItem, table: TableView
) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=5)
    ok(adjust(created["id"], 5, "RECEIVED", locationId=shop["id"]))
    first = ok(fulfill("order-1", [(created["id"], 1)]))
    assert ok(fulfill("order-1", [(created["id"], 1)], locationId="MAIN")) == first  # MAIN given is MAIN omitted
    before = snapshot(table, created["id"])

    assert refused(fulfill("order-1", [(created["id"], 1)], locationId=shop["id"]), "IdempotencyConflict") == {
        "key": "order-1"
    }
    assert snapshot(table, created["id"]) == before
    other = ok(fulfill("order-2", [(created["id"], 1)], locationId=shop["id"]))
    assert ok(fulfill("order-2", [(created["id"], 1)], locationId=shop["id"])) == other
    assert refused(fulfill("order-2", [(created["id"], 1)]), "IdempotencyConflict") == {"key": "order-2"}


def test_adjust_stock_keyed_at_one_location_conflicts_at_another(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=5)
    first = ok(adjust(created["id"], 1, "RECEIVED", key="k-1", locationId=shop["id"]))
    assert ok(adjust(created["id"], 1, "RECEIVED", key="k-1", locationId=shop["id"])) == first
    before = snapshot(table, created["id"])

    assert refused(adjust(created["id"], 1, "RECEIVED", key="k-1"), "IdempotencyConflict") == {"key": "k-1"}

    assert snapshot(table, created["id"]) == before


def test_records_written_by_v1_answer_as_v2_writes_them_and_keep_working(
    new_item: NewItem, table: TableView, admin_client: Any, table_name: str
) -> None:
    created = new_item(quantity=5)
    movement = ok(adjust(created["id"], -1, "SOLD", key="k-v1"))
    order = ok(fulfill("order-v1", [(created["id"], 1)]))
    before = item(created["id"]), movements(created["id"])
    # What v1 stored: no levels or holdsRevision on the item, no location on a movement (in its own record and in a
    # request's record); stock was one number, at what v2 calls MAIN.
    v2_only = {"levels", "holdsRevision", "locationId", "locationQuantityAfter"}
    for record in table.records():
        v1 = {name: value for name, value in record.items() if name not in v2_only}
        if "movements" in v1:
            v1["movements"] = {
                "L": [{"M": {k: v for k, v in m["M"].items() if k not in v2_only}} for m in v1["movements"]["L"]]
            }
        admin_client.put_item(TableName=table_name, Item=v1)
    assert all(not v2_only & set(record) for record in table.records())

    assert (item(created["id"]), movements(created["id"])) == before
    assert ok(adjust(created["id"], -1, "SOLD", key="k-v1")) == movement
    assert ok(fulfill("order-v1", [(created["id"], 1)])) == order
    ok(reserve("cart-1", [(created["id"], 2)]))
    ok(release("cart-1"))
    ok(reserve("cart-2", [(created["id"], 1)]))
    ok(commit("cart-2"))
    after = assert_ledger(created["id"])
    assert (after["onHand"], after["reserved"], after["available"]) == (2, 0, 2)
