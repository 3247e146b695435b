"""Checkout reservations (contract v2) through the handlers on DynamoDB Local: reserve, commit, release, their
replays and refusals (each refusal writes nothing), and deleteItem while units are held."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.appsync import mutate, query
from tests.integration.stock import (
    adjust,
    assert_ledger,
    commit,
    create_location,
    epoch_ms,
    fulfill,
    invalid,
    item,
    movements,
    ok,
    refused,
    release,
    reserve,
    set_stock,
    snapshot,
    transfer,
)

if TYPE_CHECKING:
    from tests.integration.conftest import NewItem, TableView


def figures(item_id: str) -> tuple[int, int, int]:
    found = item(item_id)
    return found["onHand"], found["reserved"], found["available"]


def test_reserve_stock_holds_units_and_returns_the_reservation(new_item: NewItem) -> None:
    first, second = new_item(quantity=10), new_item(quantity=4)

    reservation = ok(reserve("cart-1", [(first["id"], 3), (second["id"], 4)], reference="checkout 1"))

    assert {key: value for key, value in reservation.items() if key not in {"createdAt", "expiresAt"}} == {
        "id": "cart-1",
        "status": "ACTIVE",
        "locationId": "MAIN",
        "lines": [{"itemId": first["id"], "quantity": 3}, {"itemId": second["id"], "quantity": 4}],
        "reference": "checkout 1",
        "movements": [],
    }
    assert epoch_ms(reservation["expiresAt"]) - epoch_ms(reservation["createdAt"]) == 900_000  # the default
    assert query("getReservation", {"id": "cart-1"}) == reservation
    assert figures(first["id"]) == (10, 3, 7)
    assert figures(second["id"]) == (4, 4, 0)
    after = assert_ledger(first["id"])
    assert after["levels"] == [
        {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 10, "reserved": 3, "available": 7}
    ]
    assert (after["quantity"], after["status"], after["version"]) == (10, "AVAILABLE", 1)  # v1 figures unchanged
    assert after["updatedAt"] == reservation["createdAt"] != first["updatedAt"]
    assert len(movements(first["id"])) == 1  # holding is no movement


def test_get_reservation_of_an_unknown_id_is_null() -> None:
    assert query("getReservation", {"id": "nothing"}) is None


def test_reserve_stock_at_a_location_holds_there_only(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=10)
    ok(adjust(created["id"], 3, "RECEIVED", locationId=shop["id"]))

    reservation = ok(reserve("cart-shop", [(created["id"], 2)], location_id=shop["id"], seconds=60))

    assert reservation["locationId"] == shop["id"]
    assert epoch_ms(reservation["expiresAt"]) - epoch_ms(reservation["createdAt"]) == 60_000
    after = assert_ledger(created["id"])
    assert [(level["locationCode"], level["reserved"], level["available"]) for level in after["levels"]] == [
        ("MAIN", 0, 10),
        ("SHOP", 2, 1),
    ]
    assert (after["onHand"], after["reserved"], after["available"]) == (13, 2, 11)


def test_a_level_sold_out_through_a_reservation_leaves_the_levels(new_item: NewItem) -> None:
    created = new_item(quantity=2)
    ok(reserve("cart", [(created["id"], 2)]))
    assert item(created["id"])["levels"] == [
        {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 2, "reserved": 2, "available": 0}
    ]

    ok(commit("cart"))

    assert item(created["id"])["levels"] == []


def test_reserve_stock_short_on_any_line_holds_nothing(new_item: NewItem, table: TableView) -> None:
    first, second = new_item(quantity=10), new_item(quantity=5)
    ok(reserve("cart-0", [(second["id"], 3)]))
    before = snapshot(table, first["id"], second["id"])

    result = reserve("cart-1", [(first["id"], 2), (second["id"], 3)])

    assert refused(result, "InsufficientStock") == {
        "lines": [{"itemId": second["id"], "available": 2, "requested": 3}]  # available: on hand less what is held
    }
    assert snapshot(table, first["id"], second["id"]) == before
    assert query("getReservation", {"id": "cart-1"}) is None
    # A refused request does not use the id up.
    assert ok(reserve("cart-1", [(first["id"], 2), (second["id"], 2)]))["status"] == "ACTIVE"


def test_reserve_stock_lists_every_short_line(new_item: NewItem, table: TableView) -> None:
    first, second = new_item(quantity=1), new_item(quantity=0)
    before = snapshot(table, first["id"], second["id"])

    result = reserve("cart", [(first["id"], 2), (second["id"], 1)])

    assert refused(result, "InsufficientStock") == {
        "lines": [
            {"itemId": first["id"], "available": 1, "requested": 2},
            {"itemId": second["id"], "available": 0, "requested": 1},
        ]
    }
    assert snapshot(table, first["id"], second["id"]) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reservationId": ""}, "input.reservationId"),
        ({"reservationId": "r" * 129}, "input.reservationId"),
        ({"lines": []}, "input.lines"),
        ({"lines": [{"itemId": f"i-{n}", "quantity": 1} for n in range(26)]}, "input.lines"),
        ({"lines": [{"itemId": "ITEM", "quantity": 1}, {"itemId": "ITEM", "quantity": 2}]}, "input.lines[1].itemId"),
        ({"lines": [{"itemId": "ITEM", "quantity": 0}]}, "input.lines[0].quantity"),
        ({"expiresInSeconds": 0}, "input.expiresInSeconds"),
        ({"expiresInSeconds": 86_401}, "input.expiresInSeconds"),
        ({"locationId": ""}, "input.locationId"),
        ({"reference": "r" * 201}, "input.reference"),
    ],
)
def test_reserve_stock_out_of_bounds_gives_validation_error_and_writes_nothing(
    new_item: NewItem, table: TableView, change: dict[str, Any], field: str
) -> None:
    created = new_item(quantity=5)
    request = {"reservationId": "cart", "lines": [{"itemId": created["id"], "quantity": 1}], **change}
    request["lines"] = [  # "ITEM" names the item created here
        {**line, "itemId": created["id"]} if line["itemId"] == "ITEM" else line for line in request["lines"]
    ]
    before = snapshot(table, created["id"])

    invalid(mutate("reserveStock", {"input": request}), field)

    assert snapshot(table, created["id"]) == before


def test_reserve_stock_accepts_the_bounds_of_lines_and_expiry(new_item: NewItem) -> None:
    items = [new_item(quantity=1) for _ in range(25)]

    longest = ok(reserve("r" * 128, [(found["id"], 1) for found in items], seconds=86_400))

    assert epoch_ms(longest["expiresAt"]) - epoch_ms(longest["createdAt"]) == 86_400_000
    assert all(figures(found["id"]) == (1, 1, 0) for found in items)


def test_reserve_stock_checks_locations_before_items(new_item: NewItem, table: TableView) -> None:
    created = new_item(quantity=5)
    before = snapshot(table, created["id"])

    unknown_location = reserve("cart", [("no-such-item", 1)], location_id="nowhere")
    unknown_item = reserve("cart", [(created["id"], 1), ("no-such-item", 1)])

    assert refused(unknown_location, "LocationNotFound") == {"id": "nowhere"}
    assert refused(unknown_item, "ItemNotFound") == {"id": "no-such-item"}
    assert snapshot(table, created["id"]) == before


def test_reserve_stock_replayed_returns_the_reservation_and_holds_nothing_more(
    new_item: NewItem, table: TableView
) -> None:
    first, second = new_item(quantity=5), new_item(quantity=5)
    reservation = ok(reserve("cart", [(first["id"], 2), (second["id"], 1)]))
    before = snapshot(table, first["id"], second["id"])

    # The same input once defaults are applied, lines in another order.
    replay = ok(reserve("cart", [(second["id"], 1), (first["id"], 2)], location_id="MAIN", seconds=900))

    assert replay == reservation
    assert snapshot(table, first["id"], second["id"]) == before


@pytest.mark.parametrize(
    "change",
    [
        {"lines": [("FIRST", 3)]},
        {"lines": [("FIRST", 2), ("SECOND", 1)]},
        {"seconds": 901},
        {"reference": "another"},
        {"location_id": "SHOP"},
    ],
)
def test_reserve_stock_with_a_used_id_and_other_input_is_an_idempotency_conflict(
    new_item: NewItem, table: TableView, change: dict[str, Any]
) -> None:
    shop = create_location("SHOP")
    first, second = new_item(quantity=5), new_item(quantity=5)
    names = {"FIRST": first["id"], "SECOND": second["id"]}
    ok(adjust(first["id"], 5, "RECEIVED", locationId=shop["id"]))
    ok(reserve("cart", [(first["id"], 2)]))
    before = snapshot(table, first["id"], second["id"])
    request: dict[str, Any] = {"lines": [(first["id"], 2)], **change}
    request["lines"] = [(names[name], quantity) for name, quantity in change.get("lines", [("FIRST", 2)])]
    if change.get("location_id") == "SHOP":
        request["location_id"] = shop["id"]

    result = reserve("cart", **request)

    assert refused(result, "IdempotencyConflict") == {"key": "cart"}
    assert "reservationId" in result["error"]["message"]
    assert snapshot(table, first["id"], second["id"]) == before


def test_a_replay_or_conflict_comes_before_existence_and_state_checks(new_item: NewItem, table: TableView) -> None:
    created = new_item(quantity=3)
    reservation = ok(reserve("cart", [(created["id"], 3)]))
    before = snapshot(table, created["id"])

    # Nothing is left to hold, yet the replay answers the reservation; an unknown item or location in a reused id
    # is a conflict, not a missing item or location.
    assert ok(reserve("cart", [(created["id"], 3)])) == reservation
    assert refused(reserve("cart", [("no-such-item", 1)]), "IdempotencyConflict") == {"key": "cart"}
    assert refused(reserve("cart", [(created["id"], 3)], location_id="nowhere"), "IdempotencyConflict") == {
        "key": "cart"
    }
    assert snapshot(table, created["id"]) == before


def test_a_replay_returns_the_reservation_as_it_is_now(new_item: NewItem) -> None:
    created = new_item(quantity=5)
    reservation = ok(reserve("cart", [(created["id"], 2)]))
    committed = ok(commit("cart"))

    replay = ok(reserve("cart", [(created["id"], 2)]))

    assert replay == committed
    assert {key: replay[key] for key in ("id", "lines", "expiresAt", "createdAt")} == {
        key: reservation[key] for key in ("id", "lines", "expiresAt", "createdAt")
    }
    assert figures(created["id"]) == (3, 0, 3)  # held and sold once


# commitReservation


def test_commit_reservation_sells_the_held_units_with_one_sold_movement_per_line(new_item: NewItem) -> None:
    first, second = new_item(quantity=10), new_item(quantity=4)
    reservation = ok(reserve("cart", [(first["id"], 3), (second["id"], 4)]))

    committed = ok(commit("cart"))

    assert committed["status"] == "COMMITTED"
    assert {key: committed[key] for key in committed if key not in {"status", "movements"}} == {
        key: reservation[key] for key in reservation if key not in {"status", "movements"}
    }
    assert [
        (m["itemId"], m["delta"], m["quantityAfter"], m["reason"], m["reference"], m["locationId"])
        for m in committed["movements"]
    ] == [(first["id"], -3, 7, "SOLD", "cart", "MAIN"), (second["id"], -4, 0, "SOLD", "cart", "MAIN")]
    assert figures(first["id"]) == (7, 0, 7)
    assert figures(second["id"]) == (0, 0, 0)
    assert item(second["id"])["status"] == "OUT_OF_STOCK"
    assert movements(first["id"])[0] == committed["movements"][0]
    assert query("getReservation", {"id": "cart"}) == committed
    for found in (first, second):
        after = assert_ledger(found["id"])
        assert after["updatedAt"] == committed["movements"][0]["createdAt"]


def test_commit_reservation_again_returns_it_unchanged(new_item: NewItem, table: TableView) -> None:
    created = new_item(quantity=5)
    ok(reserve("cart", [(created["id"], 2)]))
    committed = ok(commit("cart"))
    before = snapshot(table, created["id"])

    assert ok(commit("cart")) == committed

    assert snapshot(table, created["id"]) == before


def test_commit_of_a_released_reservation_is_not_active_and_writes_nothing(new_item: NewItem, table: TableView) -> None:
    created = new_item(quantity=5)
    ok(reserve("cart", [(created["id"], 2)]))
    ok(release("cart"))
    before = snapshot(table, created["id"])

    assert refused(commit("cart"), "ReservationNotActive") == {"id": "cart", "status": "RELEASED"}

    assert snapshot(table, created["id"]) == before


def test_commit_and_release_of_an_unknown_reservation_give_reservation_not_found(table: TableView) -> None:
    assert refused(commit("nothing"), "ReservationNotFound") == {"id": "nothing"}
    assert refused(release("nothing"), "ReservationNotFound") == {"id": "nothing"}
    assert table.records() == []


@pytest.mark.parametrize("operation", ["commitReservation", "releaseReservation"])
def test_commit_and_release_validate_the_id(operation: str, table: TableView) -> None:
    invalid(mutate(operation, {"id": ""}), "id")
    invalid(mutate(operation, {"id": "r" * 129}), "id")
    assert table.records() == []


def test_commit_consumes_the_held_units_even_when_nothing_else_is_available(new_item: NewItem) -> None:
    created = new_item(quantity=3)
    ok(reserve("cart", [(created["id"], 3)]))
    assert refused(fulfill("order", [(created["id"], 1)]), "InsufficientStock") == {
        "lines": [{"itemId": created["id"], "available": 0, "requested": 1}]
    }

    ok(commit("cart"))

    assert figures(created["id"]) == (0, 0, 0)
    assert_ledger(created["id"])


# releaseReservation


def test_release_reservation_makes_the_units_available_again(new_item: NewItem) -> None:
    created = new_item(quantity=5)
    reservation = ok(reserve("cart", [(created["id"], 5)]))
    held = item(created["id"])

    released = ok(release("cart"))

    assert released == {**reservation, "status": "RELEASED"}
    assert query("getReservation", {"id": "cart"}) == released
    after = item(created["id"])
    assert (after["onHand"], after["reserved"], after["available"], after["version"]) == (5, 0, 5, 1)
    assert after["updatedAt"] > held["updatedAt"]  # releasing changes the item's updatedAt
    assert len(movements(created["id"])) == 1
    ok(fulfill("order", [(created["id"], 5)]))


def test_release_of_a_released_reservation_returns_it_unchanged(new_item: NewItem, table: TableView) -> None:
    created = new_item(quantity=5)
    ok(reserve("cart", [(created["id"], 2)]))
    released = ok(release("cart"))
    before = snapshot(table, created["id"])

    assert ok(release("cart")) == released

    assert snapshot(table, created["id"]) == before


def test_release_of_a_committed_reservation_is_not_active_and_writes_nothing(
    new_item: NewItem, table: TableView
) -> None:
    created = new_item(quantity=5)
    ok(reserve("cart", [(created["id"], 2)]))
    ok(commit("cart"))
    before = snapshot(table, created["id"])

    assert refused(release("cart"), "ReservationNotActive") == {"id": "cart", "status": "COMMITTED"}

    assert snapshot(table, created["id"]) == before


# Held units and the other writes


def test_every_decrease_draws_on_available_only(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=10)
    ok(reserve("cart", [(created["id"], 8)]))
    before = snapshot(table, created["id"])
    line = {"itemId": created["id"], "available": 2, "requested": 3}

    assert refused(adjust(created["id"], -3, "DAMAGED"), "InsufficientStock") == {"lines": [line]}
    assert refused(fulfill("order", [(created["id"], 3)]), "InsufficientStock") == {"lines": [line]}
    assert refused(transfer("MAIN", shop["id"], [(created["id"], 3)]), "InsufficientStock") == {"lines": [line]}
    assert refused(reserve("cart-2", [(created["id"], 3)]), "InsufficientStock") == {"lines": [line]}

    assert snapshot(table, created["id"]) == before
    ok(adjust(created["id"], -2, "DAMAGED"))
    assert figures(created["id"]) == (8, 8, 0)


def test_set_stock_below_the_reserved_units_is_a_validation_error_on_that_line(
    new_item: NewItem, table: TableView
) -> None:
    first, second = new_item(quantity=10), new_item(quantity=10)
    ok(reserve("cart", [(second["id"], 6)]))
    before = snapshot(table, first["id"], second["id"])

    result = set_stock([{"itemId": first["id"], "onHand": 0}, {"itemId": second["id"], "onHand": 5}])

    invalid(result, "input.lines[1].onHand")
    assert snapshot(table, first["id"], second["id"]) == before
    ok(set_stock([{"itemId": first["id"], "onHand": 0}, {"itemId": second["id"], "onHand": 6}]))
    assert figures(second["id"]) == (6, 6, 0)


def test_delete_item_while_units_are_held_gives_item_reserved_and_writes_nothing(
    new_item: NewItem, table: TableView
) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=10)
    ok(adjust(created["id"], 4, "RECEIVED", locationId=shop["id"]))
    ok(reserve("cart-1", [(created["id"], 3)]))
    ok(reserve("cart-2", [(created["id"], 4)], location_id=shop["id"]))
    before = snapshot(table, created["id"])

    result = mutate("deleteItem", {"id": created["id"]})

    assert refused(result, "ItemReserved") == {"id": created["id"], "reserved": 7}  # across locations
    assert snapshot(table, created["id"]) == before
    ok(release("cart-1"))
    ok(commit("cart-2"))
    deleted = ok(mutate("deleteItem", {"id": created["id"]}))
    assert deleted["id"] == created["id"]
    assert query("getItem", {"id": created["id"]}) is None


def test_reserve_commit_and_release_change_updated_at_but_not_version(new_item: NewItem) -> None:
    created = new_item(quantity=10)
    stamps = [created["updatedAt"]]
    for step in (
        lambda: reserve("cart-1", [(created["id"], 1)]),
        lambda: commit("cart-1"),
        lambda: reserve("cart-2", [(created["id"], 1)]),
        lambda: release("cart-2"),
    ):
        ok(step())
        after = item(created["id"])
        assert after["version"] == 1
        stamps.append(after["updatedAt"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_a_reservation_id_is_its_own_key_space(new_item: NewItem) -> None:
    created = new_item(quantity=10)
    key = str(uuid.uuid4())
    ok(adjust(created["id"], -1, "SOLD", key=key))
    ok(fulfill(key, [(created["id"], 1)]))

    assert ok(reserve(key, [(created["id"], 1)]))["id"] == key

    assert figures(created["id"]) == (8, 1, 7)
