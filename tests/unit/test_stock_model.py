"""Stock model v2 on the model alone: levels per location, holds that count until the millisecond before they end,
and the changes reservations, counts and movements make to an item."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.locations import Locations
from inventory.model import (
    MAIN_LOCATION,
    MAX_LOCATIONS,
    AdjustStock,
    CountLine,
    DuplicateLocationCode,
    FulfillOrder,
    Instant,
    InsufficientStock,
    Item,
    ItemStatus,
    Level,
    Location,
    LocationNotFound,
    MovementReason,
    OrderLine,
    RequestKind,
    Reservation,
    ReservationStatus,
    ReserveStock,
    SetStock,
    Shortfall,
    StockLevel,
    TooManyLocations,
    TransferStock,
)

NOW = Instant.from_ms(1_700_000_000_000)
ENDS = NOW.ms + 60_000  # a hold that ends a minute from NOW
WAREHOUSE = Location("wh", "WH", "Warehouse", "2026-01-01T00:00:00.000Z")
STORE = Location("st", "ALPHA", "Store", "2026-01-01T00:00:00.000Z")


def item(levels: dict[str, Level]) -> Item:
    quantity = sum(level.on_hand for level in levels.values())
    status = ItemStatus.AVAILABLE if quantity else ItemStatus.OUT_OF_STOCK
    return Item("i", "S", "n", None, "c", Decimal(1), quantity, 0, status, 1, "t0", "t0", 4, levels, 2)


def figures(level: Level, now_ms: int) -> tuple[int, int, int]:
    return level.on_hand, level.reserved_at(now_ms), level.available_at(now_ms)


# Figures at an instant


def test_a_hold_counts_up_to_the_millisecond_before_it_ends_and_nothing_from_then() -> None:
    level = Level("MAIN", 10, {ENDS: 3})
    assert (level.reserved_at(ENDS - 1), level.available_at(ENDS - 1)) == (3, 7)
    assert (level.reserved_at(ENDS), level.available_at(ENDS)) == (0, 10)
    reservation = Reservation("r", "MAIN", (), ENDS, None, "t", "f", ReservationStatus.ACTIVE)
    assert reservation.status_at(ENDS - 1) is ReservationStatus.ACTIVE
    assert reservation.status_at(ENDS) is ReservationStatus.EXPIRED
    assert reservation.expires_at == Instant.from_ms(ENDS).text


def test_only_an_active_reservation_expires() -> None:
    for state in (ReservationStatus.COMMITTED, ReservationStatus.RELEASED):
        reservation = Reservation("r", "MAIN", (), ENDS, None, "t", "f", state)
        assert reservation.status_at(ENDS + 1) is state


def test_levels_list_locations_with_stock_or_a_hold_by_code_and_sum_to_the_item() -> None:
    stocked = item(
        {
            "wh": Level("WH", 4),
            "st": Level("ALPHA", 0, {ENDS: 2}),
            "old": Level("OLD", 0, {NOW.ms: 5}),  # its hold ended: nothing left to show
            MAIN_LOCATION.id: Level("MAIN", 3, {ENDS: 1, NOW.ms - 1: 9}),
        }
    )
    assert stocked.stock_levels(NOW.ms) == (
        StockLevel("st", "ALPHA", 0, 2),
        StockLevel("MAIN", "MAIN", 3, 1),
        StockLevel("wh", "WH", 4, 0),
    )
    levels = stocked.stock_levels(NOW.ms)
    assert sum(level.on_hand for level in levels) == stocked.quantity
    assert sum(level.reserved for level in levels) == stocked.reserved_at(NOW.ms) == 3
    assert sum(level.available for level in levels) == stocked.available_at(NOW.ms) == 6  # ALPHA: 0, never -2
    assert [level.location_code for level in stocked.stock_levels(ENDS)] == ["MAIN", "WH"]


def test_tidying_drops_ended_and_empty_holds_and_changes_no_figure() -> None:
    level = Level("MAIN", 5, {NOW.ms: 2, ENDS: 3, ENDS + 1: 0})
    tidied = level.tidied(NOW.ms)
    assert tidied.holds == {ENDS: 3}
    for moment in (NOW.ms, ENDS - 1, ENDS, ENDS + 1):  # tidied at NOW: every answer from then reads the same
        assert figures(tidied, moment) == figures(level, moment)
    assert figures(level, NOW.ms) == (5, 3, 2)
    assert Level("MAIN", 0, {NOW.ms: 1}).tidied(NOW.ms).empty


def text(ms: int) -> str:
    return Instant.from_ms(ms).text


def test_an_item_reads_as_updated_when_its_last_hold_ended_and_a_tidy_stores_just_that() -> None:
    stocked = item({"MAIN": Level("MAIN", 5, {ENDS: 2}), "wh": Level("WH", 4, {ENDS + 1000: 1})})
    stocked = stocked._replace(updated_at=NOW.text)
    moments = (NOW.ms, ENDS - 1, ENDS, ENDS + 999, ENDS + 1000, ENDS + 5000)
    assert [stocked.updated_at_as_of(moment) for moment in moments] == [
        NOW.text,
        NOW.text,  # the hold still counts: nothing changed yet
        text(ENDS),  # the figures change at the end, with nothing written
        text(ENDS),
        text(ENDS + 1000),  # the last hold to end dates the item
        text(ENDS + 1000),
    ]
    for tidied_at in (ENDS, ENDS + 999, ENDS + 5000):
        tidied = stocked.tidied(tidied_at)
        assert tidied.updated_at == stocked.updated_at_as_of(tidied_at)  # stores what reads already answered
        for moment in (m for m in moments if m >= tidied_at):
            assert tidied.updated_at_as_of(moment) == stocked.updated_at_as_of(moment)


def test_a_write_after_a_holds_end_keeps_its_own_later_updated_at() -> None:
    stocked = item({"MAIN": Level("MAIN", 5, {ENDS: 2})})._replace(updated_at=NOW.text)
    edited = stocked._replace(updated_at=text(ENDS + 10))  # an edit writes levels as they are (Item.edited)
    for moment in (ENDS, ENDS + 10, ENDS + 20):
        assert edited.updated_at_as_of(moment) == text(ENDS + 10)
    assert edited.tidied(ENDS + 20).updated_at == text(ENDS + 10)
    assert stocked.updated_at_as_of(ENDS + 20) == text(ENDS)


def test_an_emptied_holds_end_changes_no_updated_at_and_leaves_nothing_to_tidy() -> None:
    # A release gives the units back in place (the adapter's UpdateItem), dated then; the emptied hold stays stored.
    released = item({"MAIN": Level("MAIN", 5, {ENDS: 0})})._replace(updated_at=NOW.text)
    assert released.updated_at_as_of(ENDS + 1) == NOW.text
    assert released.tidied(ENDS + 1) is released  # its end changes nothing to hear: no write
    both = item({"MAIN": Level("MAIN", 5, {ENDS - 1000: 2, ENDS: 0})})._replace(updated_at=NOW.text)
    assert both.updated_at_as_of(ENDS + 1) == text(ENDS - 1000)  # the last end with units, not the emptied one's
    tidied = both.tidied(ENDS + 1)
    assert (tidied.updated_at, tidied.levels["MAIN"].holds) == (text(ENDS - 1000), {})  # both holds go


# Changes


def test_a_hold_draws_on_what_is_available_there_and_changes_holds_not_stock() -> None:
    stocked = item({"MAIN": Level("MAIN", 5, {ENDS: 2}), "wh": Level("WH", 9)})
    held = stocked.held(MAIN_LOCATION, 3, ENDS + 5, NOW)
    assert held.levels["MAIN"].holds == {ENDS: 2, ENDS + 5: 3}
    assert (held.quantity, held.stock_revision, held.version) == (14, 4, 1)
    assert (held.holds_revision, held.updated_at) == (3, NOW.text)
    assert held.levels["MAIN"].available_at(NOW.ms) == 0
    with pytest.raises(InsufficientStock) as caught:
        held.held(MAIN_LOCATION, 1, ENDS, NOW)  # nine units at WH do not help at MAIN
    assert caught.value.shortfalls == (Shortfall("i", 0, 1),)


def test_a_decrease_draws_on_available_and_an_ended_hold_blocks_nothing() -> None:
    stocked = item({"MAIN": Level("MAIN", 5, {ENDS: 3})})
    with pytest.raises(InsufficientStock) as caught:
        stocked.moved(MAIN_LOCATION, -3, MovementReason.SOLD, None, now=NOW, movement_id="m")
    assert caught.value.shortfalls == (Shortfall("i", 2, 3),)
    at_end = Instant.from_ms(ENDS)
    sold = stocked.moved(MAIN_LOCATION, -5, MovementReason.SOLD, None, now=at_end, movement_id="m")
    assert (sold.after.quantity, sold.after.levels) == (0, {})  # the ended hold was tidied with the level


def test_a_movement_records_the_location_and_its_quantity_after() -> None:
    stocked = item({"MAIN": Level("MAIN", 5), "wh": Level("WH", 2)})
    change = stocked.moved(WAREHOUSE, 3, MovementReason.RECEIVED, "po", now=NOW, movement_id="m")
    (movement,) = change.movements
    assert (movement.location_id, movement.location_quantity_after, movement.quantity_after) == ("wh", 5, 10)
    assert (movement.sequence, change.after.stock_revision, change.after.holds_revision) == (5, 5, 2)
    assert change.after.levels == {"MAIN": Level("MAIN", 5), "wh": Level("WH", 5)}


def test_giving_a_hold_back_needs_the_hold_and_leaves_stock_alone() -> None:
    stocked = item({"MAIN": Level("MAIN", 5, {ENDS: 3})})
    unheld = stocked.unheld("MAIN", 2, ENDS, NOW)
    assert unheld is not None
    assert (unheld.levels["MAIN"].holds, unheld.holds_revision, unheld.stock_revision) == ({ENDS: 1}, 3, 4)
    assert (unheld.quantity, unheld.updated_at) == (5, NOW.text)
    assert stocked.unheld("MAIN", 4, ENDS, NOW) is None  # more than is held there
    assert stocked.unheld("MAIN", 1, ENDS + 1, NOW) is None  # another hold
    assert stocked.unheld("wh", 1, ENDS, NOW) is None


def test_committing_a_hold_sells_it_on_hand_and_reserved_both_drop() -> None:
    stocked = item({"MAIN": Level("MAIN", 5, {ENDS: 3}), "wh": Level("WH", 1)})
    change = stocked.committed("MAIN", 3, ENDS, reference="r", now=NOW, movement_id="m")
    assert change is not None and change.before == stocked
    after = change.after
    assert (after.quantity, after.reserved_at(NOW.ms), after.levels["MAIN"]) == (3, 0, Level("MAIN", 2, {}))
    assert (after.stock_revision, after.holds_revision) == (5, 3)
    (movement,) = change.movements
    assert (movement.delta, movement.reason, movement.reference) == (-3, MovementReason.SOLD, "r")
    assert (movement.quantity_after, movement.location_quantity_after, movement.sequence) == (3, 2, 5)
    assert stocked.committed("MAIN", 3, ENDS + 1, reference="r", now=NOW, movement_id="m") is None


def test_a_count_of_the_current_on_hand_changes_nothing_and_writes_no_movement() -> None:
    stocked = item({"MAIN": Level("MAIN", 5)})
    unchanged = stocked.counted(MAIN_LOCATION, 5, None, now=NOW, movement_id="m")
    assert unchanged.after is unchanged.before and unchanged.movements == ()
    counted = stocked.counted(WAREHOUSE, 2, "count", now=NOW, movement_id="m")
    (movement,) = counted.movements
    assert (movement.delta, movement.reason, movement.location_quantity_after) == (2, MovementReason.CORRECTION, 2)


def test_an_instant_reads_the_same_as_text_and_milliseconds() -> None:
    moment = Instant.from_ms(1_767_323_045_678)
    assert moment.text == "2026-01-02T03:04:05.678Z"
    assert Instant.from_ms(moment.ms) == moment


# Locations


def test_main_exists_without_being_stored_and_is_the_default() -> None:
    locations = Locations()
    assert locations.get("MAIN") == MAIN_LOCATION and MAIN_LOCATION.is_default
    assert (MAIN_LOCATION.code, MAIN_LOCATION.created_at) == ("MAIN", "1970-01-01T00:00:00.000Z")
    assert locations.all() == (MAIN_LOCATION,)
    assert locations.get("nope") is None
    with pytest.raises(LocationNotFound):
        locations.require("nope")


def test_locations_list_by_code_and_renaming_main_keeps_its_creation() -> None:
    locations = Locations().added(WAREHOUSE).added(STORE).renamed("MAIN", "Head office")
    assert [location.code for location in locations.all()] == ["ALPHA", "MAIN", "WH"]
    main = locations.require("MAIN")
    assert (main.name, main.created_at, main.is_default) == ("Head office", MAIN_LOCATION.created_at, True)
    assert not locations.require("wh").is_default
    assert locations.revision == 3


def test_a_taken_code_is_a_duplicate_even_at_the_cap_and_otherwise_the_cap_refuses() -> None:
    locations = Locations()
    for number in range(MAX_LOCATIONS - 1):
        locations = locations.added(Location(f"id-{number}", f"L-{number}", "n", "t"))
    assert len(locations.all()) == MAX_LOCATIONS
    with pytest.raises(DuplicateLocationCode):
        locations.added(Location("new", "L-7", "n", "t"))
    with pytest.raises(DuplicateLocationCode):
        locations.added(Location("new", "MAIN", "n", "t"))
    with pytest.raises(TooManyLocations) as caught:
        locations.added(Location("new", "NEW", "n", "t"))
    assert caught.value.limit == MAX_LOCATIONS


# Request identity


def test_a_replay_is_the_same_input_once_defaults_apply_and_in_any_line_order() -> None:
    lines = (OrderLine("a", 1), OrderLine("b", 2))
    assert ReserveStock("r", lines).fingerprint == ReserveStock("r", lines[::-1], "MAIN", 900, None).fingerprint
    assert ReserveStock("r", lines).fingerprint != ReserveStock("r", lines, expires_in_seconds=901).fingerprint
    assert ReserveStock("r", lines).fingerprint != ReserveStock("r", lines, location_id="wh").fingerprint
    assert FulfillOrder("o", lines).fingerprint == FulfillOrder("o", lines[::-1], "MAIN").fingerprint
    assert FulfillOrder("o", lines).fingerprint != FulfillOrder("o", lines, "wh").fingerprint
    transfer = TransferStock("k", "MAIN", "wh", lines)
    assert transfer.fingerprint == TransferStock("k", "MAIN", "wh", lines[::-1]).fingerprint
    assert transfer.fingerprint != TransferStock("k", "wh", "MAIN", lines).fingerprint
    count = SetStock("k", (CountLine("a", 1), CountLine("b", 2, 3)))
    assert count.fingerprint == SetStock("k", count.lines[::-1], "MAIN").fingerprint
    assert count.fingerprint != SetStock("k", (CountLine("a", 1), CountLine("b", 2))).fingerprint


def test_adjustments_at_main_keep_their_v1_fingerprint_and_elsewhere_differ() -> None:
    adjust = AdjustStock("i", 2, MovementReason.RECEIVED, None, "k")
    assert adjust.fingerprint == "b3e7ad080950267c943651c7135ed5003313b06d173cfaa2dc7d9d383e970230"  # as v1 stored
    assert adjust._replace(location_id="wh").fingerprint != adjust.fingerprint


def test_adjust_transfer_and_set_stock_share_one_key_space() -> None:
    spaces = {kind: kind.key_space for kind in RequestKind}
    assert spaces == {
        RequestKind.ADJUST_STOCK: RequestKind.ADJUST_STOCK,
        RequestKind.TRANSFER_STOCK: RequestKind.ADJUST_STOCK,
        RequestKind.SET_STOCK: RequestKind.ADJUST_STOCK,
        RequestKind.FULFILL_ORDER: RequestKind.FULFILL_ORDER,
        RequestKind.RESERVE_STOCK: RequestKind.RESERVE_STOCK,
    }
