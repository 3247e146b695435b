"""Exact expiry (contract v2), with one-second reservations on DynamoDB Local and nothing running in the background:
from the instant expiresAt passes, the reservation is EXPIRED and its units are available in every read and every
write decision; a later write that tidies the ended hold away changes no answer but its own. The expiry's own write
(InventoryService.expire_reservation, which makes the end heard) is one stream record and one ItemChanged."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import resolvers.runtime
from inventory.events import EventKind, events_of
from tests.appsync import mutate, query
from tests.integration.stock import (
    adjust,
    assert_ledger,
    commit,
    create_location,
    epoch_ms,
    fulfill,
    item,
    movements,
    ok,
    refused,
    release,
    reserve,
    set_stock,
    sleep_until,
    snapshot,
    transfer,
)
from tests.integration.test_stream_handler import TableStream

if TYPE_CHECKING:
    from tests.integration.conftest import NewItem, TableView


def test_held_units_are_available_again_from_the_instant_expires_at_passes(new_item: NewItem, table: TableView) -> None:
    created = new_item(quantity=5)
    reservation = ok(reserve("cart", [(created["id"], 3)], seconds=2))
    held = item(created["id"])
    stored = table.records()
    ends = epoch_ms(reservation["expiresAt"]) / 1000
    seen = {"before": 0, "after": 0}

    # Read around expiresAt. A read that ended before it must see the hold; one that started at or after it must
    # not: whatever the latency, expiry is exact to the millisecond of the answering clock.
    time.sleep(max(0.0, ends - 0.5 - time.time()))
    while time.time() < ends + 0.25 or (not seen["after"] and time.time() < ends + 5):
        started = time.time()
        found, status = item(created["id"]), query("getReservation", {"id": "cart"})["status"]
        ended = time.time()
        if ended < ends:
            assert (found["reserved"], found["available"], status) == (3, 2, "ACTIVE")
            assert found["updatedAt"] == held["updatedAt"]
            seen["before"] += 1
        elif started >= ends:
            assert (found["reserved"], found["available"], status) == (0, 5, "EXPIRED")
            assert found["updatedAt"] == reservation["expiresAt"]  # changed then, with nothing written
            assert found["levels"] == [
                {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 5, "reserved": 0, "available": 5}
            ]
            seen["after"] += 1
    assert seen["before"] and seen["after"], seen

    expired = query("getReservation", {"id": "cart"})
    assert expired == {**reservation, "status": "EXPIRED"}
    expired_item = {**held, "reserved": 0, "available": 5, "levels": expired_levels(held)}
    assert item(created["id"]) == {**expired_item, "updatedAt": reservation["expiresAt"]}
    assert table.records() == stored  # expiry wrote nothing: it is computed on read


def expired_levels(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**level, "reserved": 0, "available": level["onHand"]} for level in found["levels"]]


def test_commit_after_expiry_is_not_active_and_release_returns_it_unchanged(
    new_item: NewItem, table: TableView
) -> None:
    created = new_item(quantity=5)
    reservation = ok(reserve("cart", [(created["id"], 3)], seconds=1))
    sleep_until(reservation["expiresAt"])
    before = snapshot(table, created["id"])

    assert refused(commit("cart"), "ReservationNotActive") == {"id": "cart", "status": "EXPIRED"}
    assert ok(release("cart")) == {**reservation, "status": "EXPIRED"}
    assert ok(release("cart")) == {**reservation, "status": "EXPIRED"}
    assert ok(reserve("cart", [(created["id"], 3)], seconds=1)) == {**reservation, "status": "EXPIRED"}  # a replay

    assert snapshot(table, created["id"]) == before


def test_an_expired_reservation_never_blocks_an_order_an_adjustment_a_transfer_or_a_count(
    new_item: NewItem, table: TableView
) -> None:
    shop = create_location("SHOP")
    sold, counted = new_item(quantity=4), new_item(quantity=3)
    reservation = ok(reserve("cart", [(sold["id"], 4), (counted["id"], 3)], seconds=1))
    assert refused(fulfill("order-early", [(sold["id"], 1)]), "InsufficientStock")["lines"][0]["available"] == 0
    sleep_until(reservation["expiresAt"])

    ok(fulfill("order", [(sold["id"], 2)]))
    ok(adjust(sold["id"], -1, "DAMAGED"))
    ok(transfer("MAIN", shop["id"], [(sold["id"], 1)]))
    ok(set_stock([{"itemId": counted["id"], "onHand": 0}]))  # below what the ended hold held
    ok(reserve("cart-2", [(sold["id"], 1)], location_id=shop["id"]))

    after = assert_ledger(sold["id"])
    assert (after["onHand"], after["reserved"], after["available"]) == (1, 1, 0)
    assert [movement["reason"] for movement in reversed(movements(sold["id"]))] == [
        "RECEIVED",
        "SOLD",
        "DAMAGED",
        "TRANSFER_OUT",
        "TRANSFER_IN",
    ]
    assert ok(mutate("deleteItem", {"id": counted["id"]}))["onHand"] == 0  # no ItemReserved: nothing is held


def test_a_write_that_tidies_an_ended_hold_changes_no_answer_but_its_own(new_item: NewItem, table: TableView) -> None:
    written, untouched = new_item(quantity=5), new_item(quantity=5)
    reservation = ok(reserve("cart", [(written["id"], 2), (untouched["id"], 2)], seconds=1))
    sleep_until(reservation["expiresAt"])
    before = {found["id"]: item(found["id"]) for found in (written, untouched)}
    expired = query("getReservation", {"id": "cart"})
    assert holds(table, written["id"])  # the ended hold is still stored: it counts for nothing

    movement = ok(adjust(written["id"], 1, "RECEIVED"))

    assert not holds(table, written["id"])  # the write tidied it away
    level = {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 6, "reserved": 0, "available": 6}
    assert item(written["id"]) == {
        **before[written["id"]],
        "quantity": 6,
        "onHand": 6,
        "available": 6,
        "levels": [level],
        "updatedAt": movement["createdAt"],
    }
    assert item(untouched["id"]) == before[untouched["id"]]
    assert query("getReservation", {"id": "cart"}) == expired
    snapshot_before = snapshot(table, written["id"], untouched["id"])
    assert ok(release("cart")) == expired
    assert refused(commit("cart"), "ReservationNotActive") == {"id": "cart", "status": "EXPIRED"}
    assert snapshot(table, written["id"], untouched["id"]) == snapshot_before
    assert_ledger(written["id"])


def test_the_expiry_write_is_heard_as_one_item_changed_with_the_figures_it_gives_back(
    new_item: NewItem, table: TableView, dynamodb_calls: Counter[str], admin_client: Any, dynamodb_endpoint: str
) -> None:
    created = new_item(quantity=5)
    reservation = ok(reserve("cart", [(created["id"], 2)], seconds=1))
    stream = TableStream(admin_client, dynamodb_endpoint, table.name)
    stream.new_records()  # what came before
    sleep_until(reservation["expiresAt"])
    before = item(created["id"])
    # Exact, with nothing written: the figures, and updatedAt dated when they changed.
    assert (before["reserved"], before["available"], before["updatedAt"]) == (0, 5, reservation["expiresAt"])

    dynamodb_calls.clear()
    (written,) = resolvers.runtime.service().expire_reservation("cart")
    assert dynamodb_calls == {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1}
    assert written.id == created["id"]

    (record,) = stream.new_records()
    (event,) = events_of(record, int(time.time() * 1000))  # no StockMovement, no LowStock
    assert (event.kind, event.item_id) == (EventKind.ITEM_CHANGED, created["id"])
    now = item(created["id"])
    assert now == before  # the write changed no answer, updatedAt included
    assert event.detail == {name: now[name] for name in event.detail}
    assert (event.detail["onHand"], event.detail["reserved"], event.detail["available"]) == (5, 0, 5)
    assert not holds(table, created["id"])
    assert resolvers.runtime.service().expire_reservation("cart") == ()  # idempotent: no write, no record
    assert stream.new_records() == []


def holds(table: TableView, item_id: str) -> dict[str, Any]:
    """The holds stored at MAIN on the item's raw record, ended or not."""
    record = table.get(f"ITEM#{item_id}", "ITEM")
    assert record is not None
    level = record["levels"]["M"].get("MAIN")
    return {} if level is None else level["M"]["holds"]["M"]  # type: ignore[no-any-return]
