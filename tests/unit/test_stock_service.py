"""Stock model v2 through the service on the in-memory repository, with a clock the tests move: locations,
reservations with exact expiry, transfers, counts, replays and the order of checks. Every refusal is checked to
write nothing by comparing the repository's state before and after."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from inventory.config import Settings
from inventory.model import (
    MAIN_LOCATION,
    MAX_AMOUNT,
    MAX_LOCATIONS,
    AdjustStock,
    BelowReserved,
    CountLine,
    CountMismatch,
    CreateItem,
    CreateLocation,
    DuplicateLocationCode,
    FulfillOrder,
    IdempotencyConflict,
    Instant,
    InsufficientStock,
    Item,
    ItemNotFound,
    ItemReserved,
    Location,
    LocationNotFound,
    MovementReason,
    OrderLine,
    QuantityAboveLimit,
    QuantityConflict,
    RequestKind,
    RequestRecord,
    Reservation,
    ReservationNotActive,
    ReservationNotFound,
    ReservationStatus,
    ReserveStock,
    SetStock,
    Shortfall,
    StockLevel,
    TooManyLocations,
    TransferStock,
    UpdateLocation,
)
from inventory.retry import TooMuchContention
from inventory.service import InventoryService
from tests.unit.conftest import Clock
from tests.unit.fake_repository import FakeRepository

MAX_ATTEMPTS = 4


@pytest.fixture
def repository() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def service(repository: FakeRepository, settings: Settings, clock: Clock) -> InventoryService:
    ids = count(1)
    return InventoryService(
        repository,
        settings,
        clock=clock,
        new_id=lambda: f"id-{next(ids)}",
        max_attempts=MAX_ATTEMPTS,
        sleep=lambda seconds: None,
    )


@pytest.fixture
def warehouse(service: InventoryService) -> Location:
    return service.create_location(CreateLocation("WH", "Warehouse"))


def create(service: InventoryService, quantity: int = 10, sku: str = "SKU-1", location_id: str = "MAIN") -> Item:
    command = CreateItem(sku, "Widget", "tools", Decimal("9.99"), quantity, None, None, location_id)
    return service.create_item(command)


def reserve(item_id: str, quantity: int, reservation_id: str = "r-1", **fields: Any) -> ReserveStock:
    return ReserveStock(reservation_id, (OrderLine(item_id, quantity),), **fields)


def snapshot(repository: FakeRepository) -> tuple[Any, ...]:
    return (
        dict(repository.items),
        {item_id: list(movements) for item_id, movements in repository.movements.items()},
        dict(repository.requests),
        dict(repository.reservations),
        repository.locations,
    )


def refused(repository: FakeRepository, error: type[Exception], call: Callable[[], object]) -> Any:
    """Run the call, expect ``error``, check that nothing was written; return the error."""
    before = snapshot(repository)
    with pytest.raises(error) as caught:
        call()
    assert snapshot(repository) == before, f"a refused request ({error.__name__}) wrote"
    return caught.value


def stored(service: InventoryService, item_id: str) -> Item:
    item = service.get_item(item_id)
    assert item is not None
    return item


def figures(service: InventoryService, item_id: str) -> tuple[int, int, int]:
    """(onHand, reserved, available) of the stored item at the service's clock."""
    item = stored(service, item_id)
    now = service.now().ms
    return item.quantity, item.reserved_at(now), item.available_at(now)


def check_ledger(repository: FakeRepository, item_id: str) -> None:
    """Sequences 1, 2, 3...; quantityAfter and each location's locationQuantityAfter are running sums that end at
    the stored figures."""
    movements = repository.movements.get(item_id, [])
    assert [m.sequence for m in movements] == list(range(1, len(movements) + 1))
    total, at = 0, dict[str, int]()
    for movement in movements:
        total += movement.delta
        at[movement.location_id] = at.get(movement.location_id, 0) + movement.delta
        assert (movement.quantity_after, movement.location_quantity_after) == (total, at[movement.location_id])
    item = repository.items.get(item_id)
    if item is not None:
        assert item.quantity == total and item.stock_revision == len(movements)
        assert {loc: level.on_hand for loc, level in item.levels.items() if level.on_hand} == {
            loc: units for loc, units in at.items() if units
        }


# Locations


def test_main_is_there_before_anyone_creates_a_location(service: InventoryService) -> None:
    assert service.get_location("MAIN") == MAIN_LOCATION
    assert service.list_locations() == (MAIN_LOCATION,)
    assert service.get_location("nope") is None


def test_locations_are_listed_by_code_and_renaming_main_keeps_it_default_and_its_creation(
    service: InventoryService, clock: Clock
) -> None:
    zed = service.create_location(CreateLocation("ZED", "Z"))
    assert zed.created_at == service.now().text
    clock.advance(1)
    assert service.create_location(CreateLocation("ALPHA", "A")).created_at == service.now().text
    renamed = service.update_location(UpdateLocation("MAIN", "Head office"))
    assert renamed == MAIN_LOCATION._replace(name="Head office") and renamed.is_default
    assert [location.code for location in service.list_locations()] == ["ALPHA", "MAIN", "ZED"]
    assert service.get_location("MAIN") == renamed


def test_a_duplicate_code_is_refused_even_at_the_cap_and_the_101st_location_is_too_many(
    service: InventoryService, repository: FakeRepository
) -> None:
    for number in range(MAX_LOCATIONS - 1):
        service.create_location(CreateLocation(f"L-{number:03d}", "n"))
    assert len(service.list_locations()) == MAX_LOCATIONS
    duplicate = refused(
        repository, DuplicateLocationCode, lambda: service.create_location(CreateLocation("L-007", "n"))
    )
    assert duplicate.code == "L-007"
    refused(repository, TooManyLocations, lambda: service.create_location(CreateLocation("NEW", "n")))


def test_renaming_an_unknown_location_is_location_not_found(
    service: InventoryService, repository: FakeRepository
) -> None:
    error = refused(repository, LocationNotFound, lambda: service.update_location(UpdateLocation("nope", "n")))
    assert error.location_id == "nope"


def test_a_location_created_concurrently_is_kept_and_the_write_decided_again(
    service: InventoryService, repository: FakeRepository
) -> None:
    def other(repo: FakeRepository) -> None:
        repo.locations = repo.locations.added(Location("other", "WH", "Theirs", "t"))

    repository.races.append(other)
    with pytest.raises(DuplicateLocationCode):  # decided again on the record as the other writer left it
        service.create_location(CreateLocation("WH", "Mine"))
    assert [loc.name for loc in service.list_locations()] == ["Main location", "Theirs"]
    repository.races.append(lambda repo: setattr(repo, "locations", repo.locations.renamed("MAIN", "Renamed")))
    store = service.create_location(CreateLocation("STORE", "Store"))
    assert [loc.name for loc in service.list_locations()] == ["Renamed", "Store", "Theirs"]
    assert service.get_location(store.id) == store


# Items at locations


def test_create_item_puts_its_initial_stock_at_the_location_given(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 7, location_id=warehouse.id)
    assert item.stock_levels(service.now().ms) == (StockLevel(warehouse.id, "WH", 7, 0),)
    (movement,) = repository.movements[item.id]
    assert (movement.location_id, movement.location_quantity_after, movement.quantity_after) == (warehouse.id, 7, 7)
    refused(repository, LocationNotFound, lambda: create(service, 1, sku="SKU-2", location_id="nope"))


def test_adjust_stock_at_a_location_moves_that_level_and_the_total(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 10)
    movement = service.adjust_stock(AdjustStock(item.id, 4, MovementReason.RECEIVED, None, "k", warehouse.id))
    assert (movement.location_id, movement.location_quantity_after, movement.quantity_after) == (warehouse.id, 4, 14)
    levels = stored(service, item.id).stock_levels(service.now().ms)
    assert levels == (StockLevel("MAIN", "MAIN", 10, 0), StockLevel(warehouse.id, "WH", 4, 0))
    shortfall = refused(
        repository,
        InsufficientStock,
        lambda: service.adjust_stock(AdjustStock(item.id, -5, MovementReason.DAMAGED, None, "k2", warehouse.id)),
    )
    assert shortfall.shortfalls == (Shortfall(item.id, 4, 5),)  # what is available there, not in total
    check_ledger(repository, item.id)


def test_a_location_is_checked_before_the_item_and_the_item_before_the_stock(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service, 1)
    adjust = AdjustStock("ghost", -5, MovementReason.SOLD, None, "k", "nowhere")
    assert refused(repository, LocationNotFound, lambda: service.adjust_stock(adjust)).location_id == "nowhere"
    refused(repository, ItemNotFound, lambda: service.adjust_stock(adjust._replace(location_id="MAIN")))
    transfer = TransferStock("k", "MAIN", "nowhere", (OrderLine("ghost", 1),))
    refused(repository, LocationNotFound, lambda: service.transfer_stock(transfer))
    count_ = SetStock("k", (CountLine("ghost", 1),), "nowhere")
    refused(repository, LocationNotFound, lambda: service.set_stock(count_))
    order = FulfillOrder("o", (OrderLine(item.id, 5), OrderLine("ghost", 1)), "nowhere")
    refused(repository, LocationNotFound, lambda: service.fulfill_order(order))
    refused(repository, ItemNotFound, lambda: service.fulfill_order(order._replace(location_id="MAIN")))
    reservation = ReserveStock("r", (OrderLine("ghost", 1),), "nowhere")
    refused(repository, LocationNotFound, lambda: service.reserve_stock(reservation))
    refused(repository, ItemNotFound, lambda: service.reserve_stock(reservation._replace(location_id="MAIN")))


# Replays and the key namespaces


def test_a_replay_answers_first_before_existence_and_state_checks(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 5)
    first = service.adjust_stock(AdjustStock(item.id, -5, MovementReason.SOLD, None, "k", "MAIN"))
    service.delete_item(item.id)
    assert service.adjust_stock(AdjustStock(item.id, -5, MovementReason.SOLD, None, "k")) == first  # gone, empty
    other = AdjustStock(item.id, -5, MovementReason.SOLD, None, "k", "nowhere")
    refused(repository, IdempotencyConflict, lambda: service.adjust_stock(other))  # before LocationNotFound


def test_transfer_and_set_stock_share_adjust_stocks_keys(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 5)
    service.adjust_stock(AdjustStock(item.id, 1, MovementReason.RECEIVED, None, "adjust-key"))
    transfer = TransferStock("adjust-key", "MAIN", warehouse.id, (OrderLine(item.id, 1),))
    error = refused(repository, IdempotencyConflict, lambda: service.transfer_stock(transfer))
    assert (error.kind, error.key) == (RequestKind.TRANSFER_STOCK, "adjust-key")
    service.transfer_stock(transfer._replace(idempotency_key="transfer-key"))
    count_ = SetStock("transfer-key", (CountLine(item.id, 3),))
    refused(repository, IdempotencyConflict, lambda: service.set_stock(count_))
    service.set_stock(count_._replace(idempotency_key="count-key"))
    adjust = AdjustStock(item.id, 1, MovementReason.RECEIVED, None, "count-key")
    refused(repository, IdempotencyConflict, lambda: service.adjust_stock(adjust))
    assert service.fulfill_order(FulfillOrder("count-key", (OrderLine(item.id, 1),))).movements  # its own namespace
    assert service.reserve_stock(reserve(item.id, 1, "count-key")).state is ReservationStatus.ACTIVE


def test_replays_return_the_first_answer_with_defaults_applied_and_lines_in_any_order(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    a, b = create(service, 10, "A"), create(service, 10, "B")
    lines = (OrderLine(a.id, 2), OrderLine(b.id, 1))
    transfer = service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, lines))
    assert service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, lines[::-1])) == transfer
    counted = service.set_stock(SetStock("s", (CountLine(a.id, 5), CountLine(b.id, 9, 9))))
    assert service.set_stock(SetStock("s", (CountLine(b.id, 9, 9), CountLine(a.id, 5)), "MAIN")) == counted
    order = service.fulfill_order(FulfillOrder("o", lines))
    assert service.fulfill_order(FulfillOrder("o", lines[::-1], "MAIN")) == order
    before = snapshot(repository)
    for replay in (
        lambda: service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, lines, "other reference")),
        lambda: service.set_stock(SetStock("s", (CountLine(a.id, 5), CountLine(b.id, 9)))),  # no compareOnHand
        lambda: service.fulfill_order(FulfillOrder("o", lines, warehouse.id)),  # another location
    ):
        with pytest.raises(IdempotencyConflict):
            replay()
    assert snapshot(repository) == before


def test_a_v1_stored_request_at_main_still_replays(service: InventoryService, repository: FakeRepository) -> None:
    item = create(service, 5)
    v1 = service.adjust_stock(AdjustStock(item.id, 2, MovementReason.RECEIVED, None, "k"))._replace(
        location_id="MAIN", location_quantity_after=7
    )
    # As v1 wrote them: digests of the input without any location (test_model pins these digests).
    adjust = AdjustStock("i", 2, MovementReason.RECEIVED, None, "v1-key")
    order = FulfillOrder("v1-order", (OrderLine("b", 1), OrderLine("a", 2)))
    repository.requests[RequestKind.ADJUST_STOCK, "v1-key"] = RequestRecord(
        RequestKind.ADJUST_STOCK, "v1-key", "b3e7ad080950267c943651c7135ed5003313b06d173cfaa2dc7d9d383e970230", (v1,), 1
    )
    repository.requests[RequestKind.FULFILL_ORDER, "v1-order"] = RequestRecord(
        RequestKind.FULFILL_ORDER,
        "v1-order",
        "6ec82a6e633a6291f2c6e97524c229b702ee45fcda7c151f9fe28afac47f2b69",
        (v1,),
        None,
    )
    assert service.adjust_stock(adjust) == v1
    assert service.fulfill_order(order).movements == (v1,)
    with pytest.raises(IdempotencyConflict):
        service.fulfill_order(order._replace(location_id="elsewhere"))


# setStock


def test_set_stock_corrects_changed_lines_only_with_the_difference(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    a, b = create(service, 10, "A"), create(service, 4, "B")
    movements = service.set_stock(SetStock("s", (CountLine(a.id, 6, 10), CountLine(b.id, 4, 4)), reference="count"))
    (movement,) = movements
    assert (movement.item_id, movement.delta, movement.reason, movement.reference) == (
        a.id, -4, MovementReason.CORRECTION, "count"
    )  # fmt: skip
    assert (figures(service, a.id)[0], figures(service, b.id)[0]) == (6, 4)
    assert repository.movements[b.id][1:] == []  # the unchanged line wrote no movement
    raised = service.set_stock(SetStock("s2", (CountLine(a.id, 3, 0),), warehouse.id))
    assert [(m.delta, m.location_quantity_after, m.quantity_after) for m in raised] == [(3, 3, 9)]
    check_ledger(repository, a.id)


def test_set_stock_lists_every_mismatched_line_before_any_below_reserved_line(
    service: InventoryService, repository: FakeRepository
) -> None:
    a, b, c = create(service, 10, "A"), create(service, 4, "B"), create(service, 4, "C")
    service.reserve_stock(reserve(c.id, 3))
    lines = (CountLine(a.id, 6, 9), CountLine(c.id, 0, 4), CountLine(b.id, 4, 5))
    error = refused(repository, QuantityConflict, lambda: service.set_stock(SetStock("s", lines)))
    assert error.mismatches == (CountMismatch(a.id, 9, 10), CountMismatch(b.id, 5, 4))
    below = refused(repository, BelowReserved, lambda: service.set_stock(SetStock("s", lines[1:2])))
    assert (below.item_id, below.reserved, below.line) == (c.id, 3, 0)
    service.set_stock(SetStock("s", (CountLine(a.id, 1), CountLine(c.id, 3))))  # the key was not used up
    assert figures(service, c.id) == (3, 3, 0)


def test_set_stock_keeps_an_items_total_within_the_bound_and_names_the_line(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    a, b = create(service, 10, "A"), create(service, 10, "B")
    lines = (CountLine(a.id, 5), CountLine(b.id, MAX_AMOUNT - 9))
    error = refused(repository, QuantityAboveLimit, lambda: service.set_stock(SetStock("s", lines, warehouse.id)))
    assert (error.item_id, error.quantity, error.line) == (b.id, MAX_AMOUNT + 1, 1)
    service.set_stock(SetStock("s", (CountLine(b.id, MAX_AMOUNT - 10),), warehouse.id))
    assert figures(service, b.id)[0] == MAX_AMOUNT


def test_a_count_below_an_ended_hold_is_allowed(
    service: InventoryService, repository: FakeRepository, clock: Clock
) -> None:
    item = create(service, 5)
    service.reserve_stock(reserve(item.id, 5, expires_in_seconds=1))
    clock.advance(1000)
    (movement,) = service.set_stock(SetStock("s", (CountLine(item.id, 0),)))
    assert movement.delta == -5 and figures(service, item.id) == (0, 0, 0)


# transferStock


def test_a_transfer_writes_out_then_in_per_line_and_keeps_totals(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    a, b = create(service, 10, "A"), create(service, 3, "B")
    result = service.transfer_stock(
        TransferStock("t", "MAIN", warehouse.id, (OrderLine(b.id, 3), OrderLine(a.id, 4)), "move")
    )
    assert (result.from_location_id, result.to_location_id) == ("MAIN", warehouse.id)
    assert [
        (m.item_id, m.reason, m.delta, m.quantity_after, m.location_id, m.location_quantity_after, m.reference)
        for m in result.movements
    ] == [
        (b.id, MovementReason.TRANSFER_OUT, -3, 0, "MAIN", 0, "move"),
        (b.id, MovementReason.TRANSFER_IN, 3, 3, warehouse.id, 3, "move"),
        (a.id, MovementReason.TRANSFER_OUT, -4, 6, "MAIN", 6, "move"),
        (a.id, MovementReason.TRANSFER_IN, 4, 10, warehouse.id, 4, "move"),
    ]
    assert (figures(service, a.id), figures(service, b.id)) == ((10, 0, 10), (3, 0, 3))
    assert stored(service, b.id).stock_levels(service.now().ms) == (StockLevel(warehouse.id, "WH", 3, 0),)
    assert stored(service, b.id).status.value == "AVAILABLE"
    assert service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, (OrderLine(a.id, 4), OrderLine(b.id, 3)),
                                                "move")).id == result.id  # fmt: skip
    check_ledger(repository, a.id)
    check_ledger(repository, b.id)


def test_a_transfer_draws_on_what_is_available_at_the_source_and_writes_nothing_when_short(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    a, b = create(service, 10, "A"), create(service, 3, "B")
    service.reserve_stock(reserve(a.id, 8))
    lines = (OrderLine(a.id, 3), OrderLine(b.id, 4))
    error = refused(
        repository, InsufficientStock, lambda: service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, lines))
    )
    assert error.shortfalls == (Shortfall(a.id, 2, 3), Shortfall(b.id, 3, 4))


# Reservations


def test_reserve_holds_units_until_expiry_and_they_count_again_from_that_millisecond(
    service: InventoryService, repository: FakeRepository, clock: Clock
) -> None:
    item = create(service, 10)
    reservation = service.reserve_stock(reserve(item.id, 4, expires_in_seconds=2, reference="cart"))
    assert reservation == Reservation(
        "r-1",
        "MAIN",
        (OrderLine(item.id, 4),),
        service.now().ms + 2000,
        "cart",
        service.now().text,
        reserve(item.id, 4, expires_in_seconds=2, reference="cart").fingerprint,
        ReservationStatus.ACTIVE,
    )
    written = repository.items[item.id]
    assert (written.updated_at, written.stock_revision, written.holds_revision) == (service.now().text, 1, 1)
    assert figures(service, item.id) == (10, 4, 6)
    clock.advance(1999)
    assert figures(service, item.id) == (10, 4, 6)
    assert reservation.status_at(service.now().ms) is ReservationStatus.ACTIVE
    clock.advance(1)
    assert figures(service, item.id) == (10, 0, 10)
    assert reservation.status_at(service.now().ms) is ReservationStatus.EXPIRED
    assert repository.items[item.id] == written  # expiry wrote nothing: updatedAt and all else read the same


def test_reserve_is_all_or_nothing_and_a_refusal_does_not_use_up_the_id(
    service: InventoryService, repository: FakeRepository
) -> None:
    a, b = create(service, 10, "A"), create(service, 1, "B")
    lines = (OrderLine(a.id, 5), OrderLine(b.id, 2))
    error = refused(repository, InsufficientStock, lambda: service.reserve_stock(ReserveStock("r", lines)))
    assert error.shortfalls == (Shortfall(b.id, 1, 2),)
    held = service.reserve_stock(ReserveStock("r", (OrderLine(a.id, 5), OrderLine(b.id, 1))))
    assert (figures(service, a.id), figures(service, b.id)) == ((10, 5, 5), (1, 1, 0))
    refused(repository, InsufficientStock, lambda: service.reserve_stock(reserve(b.id, 1, "r-2")))
    assert held.state is ReservationStatus.ACTIVE


def test_a_reserve_replay_returns_the_reservation_as_it_is_now_and_holds_nothing_more(
    service: InventoryService, repository: FakeRepository, clock: Clock
) -> None:
    a, b = create(service, 10, "A"), create(service, 10, "B")
    lines = (OrderLine(a.id, 2), OrderLine(b.id, 3))
    first = service.reserve_stock(ReserveStock("r", lines))
    clock.advance(5)
    before = snapshot(repository)
    assert service.reserve_stock(ReserveStock("r", lines[::-1], "MAIN", 900, None)) == first
    service.release_reservation("r")
    after_release = snapshot(repository)
    replayed = service.reserve_stock(ReserveStock("r", lines))
    assert replayed == first._replace(state=ReservationStatus.RELEASED)
    assert snapshot(repository) == after_release != before
    for other in (
        ReserveStock("r", lines, expires_in_seconds=899),
        ReserveStock("r", lines, reference="x"),
        ReserveStock("r", lines[:1]),
        ReserveStock("r", lines, "elsewhere"),  # the key decides before the location is looked up
    ):
        error = refused(repository, IdempotencyConflict, functools.partial(service.reserve_stock, other))
        assert (error.kind, error.key) == (RequestKind.RESERVE_STOCK, "r")


def test_commit_sells_the_held_units_once(
    service: InventoryService, repository: FakeRepository, clock: Clock, warehouse: Location
) -> None:
    a, b = create(service, 0, "A"), create(service, 5, "B")
    service.adjust_stock(AdjustStock(a.id, 6, MovementReason.RECEIVED, None, "k", warehouse.id))
    service.reserve_stock(ReserveStock("r", (OrderLine(a.id, 4),), warehouse.id, 60))
    at_warehouse = ReserveStock("r2", (OrderLine(b.id, 1),), warehouse.id)
    refused(repository, InsufficientStock, lambda: service.reserve_stock(at_warehouse))  # MAIN's units do not help
    clock.advance(10)
    committed = service.commit_reservation("r")
    assert committed.state is ReservationStatus.COMMITTED
    assert [(m.item_id, m.delta, m.reason, m.reference, m.location_id, m.location_quantity_after)
            for m in committed.movements] == [(a.id, -4, MovementReason.SOLD, "r", warehouse.id, 2)]  # fmt: skip
    assert figures(service, a.id) == (2, 0, 2)
    assert repository.items[a.id].updated_at == service.now().text
    assert repository.reservations["r"] == committed
    before = snapshot(repository)
    assert service.commit_reservation("r") == committed  # again: unchanged
    error = refused(repository, ReservationNotActive, lambda: service.release_reservation("r"))
    assert (error.reservation_id, error.status) == ("r", ReservationStatus.COMMITTED)
    assert snapshot(repository) == before
    check_ledger(repository, a.id)


def test_commit_at_or_after_expiry_is_not_active_and_the_millisecond_before_commits(
    service: InventoryService, repository: FakeRepository, clock: Clock
) -> None:
    item = create(service, 5)
    service.reserve_stock(reserve(item.id, 2, "late", expires_in_seconds=1))
    service.reserve_stock(reserve(item.id, 3, "just-in-time", expires_in_seconds=1))
    clock.advance(999)
    assert service.commit_reservation("just-in-time").state is ReservationStatus.COMMITTED
    clock.advance(1)
    error = refused(repository, ReservationNotActive, lambda: service.commit_reservation("late"))
    assert (error.reservation_id, error.status) == ("late", ReservationStatus.EXPIRED)
    assert figures(service, item.id) == (2, 0, 2)


def test_release_gives_units_back_once_and_an_expired_or_released_one_is_returned_unchanged(
    service: InventoryService, repository: FakeRepository, clock: Clock
) -> None:
    item = create(service, 5)
    service.reserve_stock(reserve(item.id, 5, "r"))
    clock.advance(10)
    released = service.release_reservation("r")
    assert released.state is ReservationStatus.RELEASED
    assert figures(service, item.id) == (5, 0, 5)
    written = repository.items[item.id]
    assert (written.updated_at, written.holds_revision, written.stock_revision) == (service.now().text, 2, 1)
    before = snapshot(repository)
    assert service.release_reservation("r") == released
    error = refused(repository, ReservationNotActive, lambda: service.commit_reservation("r"))
    assert error.status is ReservationStatus.RELEASED
    assert snapshot(repository) == before

    service.reserve_stock(reserve(item.id, 2, "short", expires_in_seconds=1))
    clock.advance(1000)
    before = snapshot(repository)
    expired = service.release_reservation("short")
    assert expired == repository.reservations["short"] and expired.status_at(service.now().ms).value == "EXPIRED"
    assert snapshot(repository) == before


def test_unknown_reservations_are_not_found(service: InventoryService, repository: FakeRepository) -> None:
    assert service.get_reservation("nope") is None
    assert refused(repository, ReservationNotFound, lambda: service.commit_reservation("nope")).reservation_id == "nope"
    refused(repository, ReservationNotFound, lambda: service.release_reservation("nope"))


def test_expired_holds_never_block_orders_adjustments_transfers_or_deletes(
    service: InventoryService, repository: FakeRepository, clock: Clock, warehouse: Location
) -> None:
    a, b, c, d = (create(service, 3, sku) for sku in "ABCD")
    for item in (a, b, c, d):
        service.reserve_stock(reserve(item.id, 3, f"hold-{item.sku}", expires_in_seconds=1))
    refused(repository, InsufficientStock, lambda: service.fulfill_order(FulfillOrder("o", (OrderLine(a.id, 1),))))
    refused(repository, ItemReserved, lambda: service.delete_item(d.id))
    clock.advance(1000)
    assert service.fulfill_order(FulfillOrder("o", (OrderLine(a.id, 3),))).movements[0].quantity_after == 0
    assert service.adjust_stock(AdjustStock(b.id, -3, MovementReason.DAMAGED, None, "k")).quantity_after == 0
    service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, (OrderLine(c.id, 3),)))
    assert service.delete_item(d.id) is not None and d.id not in repository.items
    assert figures(service, c.id) == (3, 0, 3)


def test_delete_of_a_reserved_item_names_its_total_reserved_and_writes_nothing(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 5)
    service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, (OrderLine(item.id, 2),)))
    service.reserve_stock(reserve(item.id, 1, "r-1"))
    service.reserve_stock(reserve(item.id, 2, "r-2", location_id=warehouse.id))
    error = refused(repository, ItemReserved, lambda: service.delete_item(item.id))
    assert (error.item_id, error.reserved) == (item.id, 3)


# Races


def test_a_reserve_that_loses_to_another_reserve_plans_again_on_what_is_left(
    service: InventoryService, repository: FakeRepository
) -> None:
    a, b = create(service, 5, "A"), create(service, 5, "B")

    def other_checkout(item_id: str, units: int) -> Callable[[FakeRepository], None]:
        def race(repo: FakeRepository) -> None:
            repo.items[item_id] = repo.items[item_id].held(
                MAIN_LOCATION, units, service.now().ms + 60_000, service.now()
            )

        return race

    repository.races.append(other_checkout(a.id, 2))
    writes = repository.writes
    assert service.reserve_stock(reserve(a.id, 3)).state is ReservationStatus.ACTIVE
    assert (repository.writes - writes, figures(service, a.id)) == (2, (5, 5, 0))  # exactly what was there
    refused(repository, InsufficientStock, lambda: service.reserve_stock(reserve(a.id, 1, "r-2")))
    repository.races.append(other_checkout(b.id, 4))
    with pytest.raises(InsufficientStock) as caught:
        service.reserve_stock(reserve(b.id, 2, "r-3"))
    assert caught.value.shortfalls == (Shortfall(b.id, 1, 2),)
    assert ("r-3" not in repository.reservations, figures(service, b.id)) == (True, (5, 4, 1))


@pytest.mark.parametrize("first", ["commit", "release"])
def test_commit_racing_release_ends_in_exactly_one_outcome(
    service: InventoryService, repository: FakeRepository, first: str
) -> None:
    item = create(service, 5)
    service.reserve_stock(reserve(item.id, 2))
    winner, loser = (
        (service.commit_reservation, service.release_reservation)
        if first == "commit"
        else (service.release_reservation, service.commit_reservation)
    )
    repository.races.append(lambda repo: winner("r-1") and None)
    with pytest.raises(ReservationNotActive) as caught:
        loser("r-1")
    expected = ReservationStatus.COMMITTED if first == "commit" else ReservationStatus.RELEASED
    assert caught.value.status is expected
    assert repository.reservations["r-1"].state is expected
    assert figures(service, item.id) == ((3, 0, 3) if first == "commit" else (5, 0, 5))
    check_ledger(repository, item.id)


def test_a_concurrent_reserve_with_the_same_id_is_answered_as_a_replay(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service, 5)
    command = reserve(item.id, 2)
    repository.races.append(lambda repo: service.reserve_stock(command) and None)
    assert service.reserve_stock(command) == repository.reservations["r-1"]
    assert figures(service, item.id) == (5, 2, 3)  # held once
    repository.reservations.pop("r-1")  # the id reused with other input by a concurrent request
    repository.races.append(lambda repo: service.reserve_stock(reserve(item.id, 1)) and None)
    with pytest.raises(IdempotencyConflict):
        service.reserve_stock(command)


def test_a_hold_tidied_by_a_writer_whose_clock_is_ahead_waits_until_ours_sees_it_ended(
    repository: FakeRepository, settings: Settings, clock: Clock
) -> None:
    service = InventoryService(
        repository, settings, clock=clock, new_id=iter(f"id-{n}" for n in count()).__next__, max_attempts=MAX_ATTEMPTS,
        sleep=lambda seconds: clock.advance(400),
    )  # fmt: skip
    item = create(service, 5)
    service.reserve_stock(reserve(item.id, 2, "r-1", expires_in_seconds=1))
    service.reserve_stock(reserve(item.id, 2, "r-2", expires_in_seconds=1))
    clock.advance(500)
    ahead = Instant.of(clock.now + timedelta(milliseconds=600))  # another writer's clock: both holds ended by it
    sold = repository.items[item.id].moved(MAIN_LOCATION, -1, MovementReason.SOLD, None, now=ahead, movement_id="x")
    repository.items[item.id] = sold.after  # its write tidied the ended holds away
    repository.movements[item.id].extend(sold.movements)
    released = service.release_reservation("r-1")
    assert released.status_at(service.now().ms) is ReservationStatus.EXPIRED
    assert released == repository.reservations["r-1"]  # unchanged: nothing was held any more
    with pytest.raises(ReservationNotActive) as caught:
        service.commit_reservation("r-2")
    assert caught.value.status is ReservationStatus.EXPIRED
    assert figures(service, item.id) == (4, 0, 4)


def test_reservation_writes_that_keep_losing_give_up_and_write_nothing(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 5)
    service.reserve_stock(reserve(item.id, 1, "held"))
    calls: list[Callable[[], object]] = [
        lambda: service.reserve_stock(reserve(item.id, 1, "new")),
        lambda: service.commit_reservation("held"),
        lambda: service.release_reservation("held"),
        lambda: service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, (OrderLine(item.id, 1),))),
        lambda: service.set_stock(SetStock("s", (CountLine(item.id, 1),))),
        lambda: service.create_location(CreateLocation("NEW", "n")),
    ]
    for call in calls:
        repository.conflicts = MAX_ATTEMPTS
        refused(repository, TooMuchContention, call)


def test_transfer_and_count_that_lose_to_a_sale_are_decided_again_on_the_fresh_stock(
    service: InventoryService, repository: FakeRepository, warehouse: Location
) -> None:
    item = create(service, 5)

    def sale(repo: FakeRepository) -> None:
        sold = repo.items[item.id].moved(
            MAIN_LOCATION, -2, MovementReason.SOLD, None, now=service.now(), movement_id="x"
        )
        repo.items[item.id] = sold.after
        repo.movements[item.id].extend(sold.movements)

    repository.races.append(sale)
    with pytest.raises(InsufficientStock) as caught:
        service.transfer_stock(TransferStock("t", "MAIN", warehouse.id, (OrderLine(item.id, 4),)))
    assert caught.value.shortfalls == (Shortfall(item.id, 3, 4),)
    repository.races.append(sale)
    with pytest.raises(QuantityConflict) as conflict:  # the count compared against what was there before the sale
        service.set_stock(SetStock("s", (CountLine(item.id, 0, 3),)))
    assert conflict.value.mismatches == (CountMismatch(item.id, 3, 1),)
    assert repository.requests == {}  # neither key was used up
    (movement,) = service.set_stock(SetStock("s", (CountLine(item.id, 0, 1),)))
    assert (movement.delta, movement.sequence) == (-1, 4)
    check_ledger(repository, item.id)
