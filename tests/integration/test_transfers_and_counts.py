"""transferStock and setStock (contract v2) through the handlers on DynamoDB Local: their movements and ledger, their
refusals (each writes nothing) and the idempotency key space they share with adjustStock."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.appsync import mutate
from tests.integration.stock import (
    adjust,
    assert_ledger,
    create_location,
    invalid,
    item,
    movements,
    ok,
    refused,
    reserve,
    set_stock,
    snapshot,
    transfer,
)

if TYPE_CHECKING:
    from tests.integration.conftest import NewItem, TableView


def at(item_id: str) -> dict[str, tuple[int, int]]:
    """The item's (onHand, reserved) by location code."""
    return {level["locationCode"]: (level["onHand"], level["reserved"]) for level in item(item_id)["levels"]}


# transferStock


def test_transfer_moves_each_line_out_of_the_source_then_into_the_destination(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    first, second = new_item(quantity=10), new_item(quantity=4)
    ok(adjust(second["id"], 1, "RECEIVED", locationId=shop["id"]))

    result = ok(transfer("MAIN", shop["id"], [(first["id"], 3), (second["id"], 4)], reference="restock"))

    uuid.UUID(result["id"])
    assert (result["fromLocationId"], result["toLocationId"]) == ("MAIN", shop["id"])
    assert [
        (m["itemId"], m["reason"], m["delta"], m["locationId"], m["locationQuantityAfter"], m["quantityAfter"])
        for m in result["movements"]
    ] == [
        (first["id"], "TRANSFER_OUT", -3, "MAIN", 7, 7),
        (first["id"], "TRANSFER_IN", 3, shop["id"], 3, 10),
        (second["id"], "TRANSFER_OUT", -4, "MAIN", 0, 1),
        (second["id"], "TRANSFER_IN", 4, shop["id"], 5, 5),
    ]
    assert {m["reference"] for m in result["movements"]} == {"restock"}
    assert at(first["id"]) == {"MAIN": (7, 0), "SHOP": (3, 0)}
    assert at(second["id"]) == {"SHOP": (5, 0)}  # nothing left at MAIN: the level goes
    for found, total in ((first, 10), (second, 5)):  # totals do not change
        after = assert_ledger(found["id"])
        assert (after["quantity"], after["status"], after["version"]) == (total, "AVAILABLE", 1)
    assert movements(first["id"])[:2] == result["movements"][1::-1]  # newest first


def test_transfer_replayed_returns_the_same_transfer_and_moves_nothing_more(
    new_item: NewItem, table: TableView
) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=10)
    result = ok(transfer("MAIN", shop["id"], [(created["id"], 3)], key="t-1"))
    before = snapshot(table, created["id"])

    assert ok(transfer("MAIN", shop["id"], [(created["id"], 3)], key="t-1")) == result

    assert snapshot(table, created["id"]) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idempotencyKey": ""}, "input.idempotencyKey"),
        ({"idempotencyKey": "k" * 129}, "input.idempotencyKey"),
        ({"toLocationId": "MAIN"}, "input.toLocationId"),
        ({"fromLocationId": ""}, "input.fromLocationId"),
        ({"lines": []}, "input.lines"),
        ({"lines": [{"itemId": f"i-{n}", "quantity": 1} for n in range(26)]}, "input.lines"),
        ({"lines": [{"itemId": "ITEM", "quantity": 1}, {"itemId": "ITEM", "quantity": 1}]}, "input.lines[1].itemId"),
        ({"lines": [{"itemId": "ITEM", "quantity": -1}]}, "input.lines[0].quantity"),
        ({"reference": "r" * 201}, "input.reference"),
    ],
)
def test_transfer_out_of_bounds_gives_validation_error_and_writes_nothing(
    new_item: NewItem, table: TableView, change: dict[str, Any], field: str
) -> None:
    created = new_item(quantity=5)
    request = {
        "idempotencyKey": "t-1",
        "fromLocationId": "MAIN",
        "toLocationId": "SHOP-ID",
        "lines": [{"itemId": created["id"], "quantity": 1}],
        **change,
    }
    request["lines"] = [  # "ITEM" names the item created here
        {**line, "itemId": created["id"]} if line["itemId"] == "ITEM" else line for line in request["lines"]
    ]
    before = snapshot(table, created["id"])

    invalid(mutate("transferStock", {"input": request}), field)

    assert snapshot(table, created["id"]) == before


def test_transfer_refusals_in_check_order_write_nothing(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=2)
    before = snapshot(table, created["id"])

    # Locations before items, the source before the destination; then the state.
    assert refused(transfer("nowhere", "elsewhere", [("no-such-item", 1)]), "LocationNotFound") == {"id": "nowhere"}
    assert refused(transfer("MAIN", "elsewhere", [("no-such-item", 1)]), "LocationNotFound") == {"id": "elsewhere"}
    assert refused(transfer("MAIN", shop["id"], [(created["id"], 1), ("no-such-item", 1)]), "ItemNotFound") == {
        "id": "no-such-item"
    }
    assert refused(transfer(shop["id"], "MAIN", [(created["id"], 1)]), "InsufficientStock") == {
        "lines": [{"itemId": created["id"], "available": 0, "requested": 1}]  # at the source
    }
    assert refused(transfer("MAIN", shop["id"], [(created["id"], 3)], key="t-short"), "InsufficientStock") == {
        "lines": [{"itemId": created["id"], "available": 2, "requested": 3}]
    }

    assert snapshot(table, created["id"]) == before
    ok(transfer("MAIN", shop["id"], [(created["id"], 2)], key="t-short"))  # a refused key is not used up


def test_transfer_with_a_used_key_and_other_input_is_an_idempotency_conflict(
    new_item: NewItem, table: TableView
) -> None:
    shop, depot = create_location("SHOP"), create_location("DEPOT")
    created = new_item(quantity=10)
    ok(transfer("MAIN", shop["id"], [(created["id"], 1)], key="t-1"))
    before = snapshot(table, created["id"])

    for other in (
        transfer("MAIN", shop["id"], [(created["id"], 2)], key="t-1"),
        transfer("MAIN", depot["id"], [(created["id"], 1)], key="t-1"),
        transfer("MAIN", shop["id"], [(created["id"], 1)], key="t-1", reference="x"),
        transfer("MAIN", shop["id"], [("no-such-item", 1)], key="t-1"),  # the key is looked up before the items
        transfer("MAIN", "nowhere", [(created["id"], 1)], key="t-1"),  # and before the locations
        transfer("MAIN", shop["id"], [(created["id"], 99)], key="t-1"),  # and the stock
    ):
        assert refused(other, "IdempotencyConflict") == {"key": "t-1"}

    assert snapshot(table, created["id"]) == before


def test_transfer_set_stock_and_adjust_stock_share_one_key_space(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=10)
    movement = ok(adjust(created["id"], -1, "DAMAGED", key="k-adjust"))
    moved = ok(transfer("MAIN", shop["id"], [(created["id"], 1)], key="k-transfer"))
    counted = ok(set_stock([{"itemId": created["id"], "onHand": 5}], key="k-count"))
    before = snapshot(table, created["id"])

    for key in ("k-transfer", "k-count"):
        assert refused(adjust(created["id"], -1, "DAMAGED", key=key), "IdempotencyConflict") == {"key": key}
    for key in ("k-adjust", "k-count"):
        assert refused(transfer("MAIN", shop["id"], [(created["id"], 1)], key=key), "IdempotencyConflict") == {
            "key": key
        }
    for key in ("k-adjust", "k-transfer"):
        assert refused(set_stock([{"itemId": created["id"], "onHand": 5}], key=key), "IdempotencyConflict") == {
            "key": key
        }

    assert snapshot(table, created["id"]) == before
    assert ok(adjust(created["id"], -1, "DAMAGED", key="k-adjust")) == movement
    assert ok(transfer("MAIN", shop["id"], [(created["id"], 1)], key="k-transfer")) == moved
    assert ok(set_stock([{"itemId": created["id"], "onHand": 5}], key="k-count")) == counted
    assert snapshot(table, created["id"]) == before
    # An order id is another key space.
    assert ok(
        mutate("fulfillOrder", {"input": {"orderId": "k-adjust", "lines": [{"itemId": created["id"], "quantity": 1}]}})
    )


def test_transfer_draws_on_what_is_available_at_the_source(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=5)
    ok(reserve("cart", [(created["id"], 4)]))
    before = snapshot(table, created["id"])

    assert refused(transfer("MAIN", shop["id"], [(created["id"], 2)]), "InsufficientStock") == {
        "lines": [{"itemId": created["id"], "available": 1, "requested": 2}]
    }

    assert snapshot(table, created["id"]) == before
    ok(transfer("MAIN", shop["id"], [(created["id"], 1)]))
    assert at(created["id"]) == {"MAIN": (4, 4), "SHOP": (1, 0)}


# setStock


def test_set_stock_records_a_correction_for_each_changed_line_only(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    up, same, down, new_here = new_item(quantity=1), new_item(quantity=5), new_item(quantity=9), new_item(quantity=2)
    for created in (up, same, down):
        ok(adjust(created["id"], 5, "RECEIVED", locationId=shop["id"]))

    result = ok(
        set_stock(
            [
                {"itemId": up["id"], "onHand": 8},
                {"itemId": same["id"], "onHand": 5, "compareOnHand": 5},
                {"itemId": down["id"], "onHand": 0, "compareOnHand": 5},
                {"itemId": new_here["id"], "onHand": 4, "compareOnHand": 0},
            ],
            location_id=shop["id"],
            reference="count 1",
        )
    )

    assert [
        (
            m["itemId"],
            m["reason"],
            m["delta"],
            m["locationId"],
            m["locationQuantityAfter"],
            m["quantityAfter"],
            m["reference"],
        )
        for m in result["movements"]
    ] == [
        (up["id"], "CORRECTION", 3, shop["id"], 8, 9, "count 1"),
        (down["id"], "CORRECTION", -5, shop["id"], 0, 9, "count 1"),
        (new_here["id"], "CORRECTION", 4, shop["id"], 4, 6, "count 1"),
    ]
    assert at(up["id"]) == {"MAIN": (1, 0), "SHOP": (8, 0)}
    assert at(down["id"]) == {"MAIN": (9, 0)}
    assert at(new_here["id"]) == {"MAIN": (2, 0), "SHOP": (4, 0)}
    assert len(movements(same["id"])) == 2  # unchanged: no movement
    for created in (up, same, down, new_here):
        assert_ledger(created["id"])


def test_set_stock_without_a_location_counts_at_main(new_item: NewItem) -> None:
    created = new_item(quantity=5)

    result = ok(set_stock([{"itemId": created["id"], "onHand": 0}]))

    assert [(m["locationId"], m["delta"]) for m in result["movements"]] == [("MAIN", -5)]
    after = assert_ledger(created["id"])
    assert (after["quantity"], after["status"], after["levels"]) == (0, "OUT_OF_STOCK", [])


def test_set_stock_with_nothing_to_change_records_nothing_but_remembers_its_key(new_item: NewItem) -> None:
    created = new_item(quantity=5)

    assert ok(set_stock([{"itemId": created["id"], "onHand": 5}], key="k-same")) == {"movements": []}

    assert refused(adjust(created["id"], 1, "RECEIVED", key="k-same"), "IdempotencyConflict") == {"key": "k-same"}
    assert len(movements(created["id"])) == 1


def test_set_stock_compare_mismatch_lists_every_mismatched_line_and_writes_nothing(
    new_item: NewItem, table: TableView
) -> None:
    first, second, third = new_item(quantity=5), new_item(quantity=6), new_item(quantity=7)
    ok(reserve("cart", [(third["id"], 7)]))
    before = snapshot(table, first["id"], second["id"], third["id"])

    result = set_stock(
        [
            {"itemId": first["id"], "onHand": 1, "compareOnHand": 4},
            {"itemId": second["id"], "onHand": 1, "compareOnHand": 6},
            {"itemId": third["id"], "onHand": 0, "compareOnHand": 0},  # also below reserved: the conflict comes first
        ],
        key="k-count",
    )

    assert refused(result, "QuantityConflict") == {
        "lines": [
            {"itemId": first["id"], "expected": 4, "actual": 5},
            {"itemId": third["id"], "expected": 0, "actual": 7},
        ]
    }
    assert snapshot(table, first["id"], second["id"], third["id"]) == before
    ok(set_stock([{"itemId": first["id"], "onHand": 1, "compareOnHand": 5}], key="k-count"))  # not used up


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"onHand": -1}, "input.lines[0].onHand"),
        ({"onHand": 1_000_000_001}, "input.lines[0].onHand"),
        ({"onHand": 1, "compareOnHand": -1}, "input.lines[0].compareOnHand"),
        ({"onHand": 1, "compareOnHand": 1_000_000_001}, "input.lines[0].compareOnHand"),
        ({"onHand": None}, "input.lines[0].onHand"),
    ],
)
def test_set_stock_out_of_bounds_gives_validation_error_and_writes_nothing(
    new_item: NewItem, table: TableView, line: dict[str, Any], field: str
) -> None:
    created = new_item(quantity=5)
    before = snapshot(table, created["id"])

    invalid(set_stock([{"itemId": created["id"], **line}]), field)

    assert snapshot(table, created["id"]) == before


def test_set_stock_refusals_in_check_order_write_nothing(new_item: NewItem, table: TableView) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=999_999_990)
    other = new_item(quantity=1)
    lines = [{"itemId": other["id"], "onHand": 1}, {"itemId": created["id"], "onHand": 11}]
    before = snapshot(table, created["id"], other["id"])

    invalid(set_stock([*lines, {"itemId": other["id"], "onHand": 1}]), "input.lines[2].itemId")
    assert refused(set_stock([{"itemId": "no-such-item", "onHand": 1}], location_id="nowhere"), "LocationNotFound") == {
        "id": "nowhere"
    }
    assert refused(set_stock([*lines, {"itemId": "no-such-item", "onHand": 1}]), "ItemNotFound") == {
        "id": "no-such-item"
    }
    # The item's total, across locations, stays at most a billion: a state check on that line's onHand.
    invalid(set_stock(lines, location_id=shop["id"]), "input.lines[1].onHand")

    assert snapshot(table, created["id"], other["id"]) == before
    ok(set_stock([*lines[:1], {"itemId": created["id"], "onHand": 10}], location_id=shop["id"]))
    assert item(created["id"])["quantity"] == 1_000_000_000


def test_set_stock_replayed_returns_the_same_movements_even_after_stock_moved(
    new_item: NewItem, table: TableView
) -> None:
    created = new_item(quantity=5)
    first = ok(set_stock([{"itemId": created["id"], "onHand": 3, "compareOnHand": 5}], key="k-count"))
    ok(adjust(created["id"], 4, "RECEIVED"))
    before = snapshot(table, created["id"])

    assert ok(set_stock([{"itemId": created["id"], "onHand": 3, "compareOnHand": 5}], key="k-count")) == first
    for other in (
        set_stock([{"itemId": created["id"], "onHand": 3}], key="k-count"),
        set_stock([{"itemId": created["id"], "onHand": 3, "compareOnHand": 5}], key="k-count", location_id="nowhere"),
        set_stock([{"itemId": "no-such-item", "onHand": 3, "compareOnHand": 5}], key="k-count"),
    ):
        assert refused(other, "IdempotencyConflict") == {"key": "k-count"}

    assert snapshot(table, created["id"]) == before
