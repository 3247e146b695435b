"""InventoryService.expire_reservation on the DynamoDB adapter (moto): the write that makes a reservation's end heard.
It writes only for an ACTIVE reservation whose hold has ended and whose items still carry ended holds; it changes no
answer at the instant it runs; it makes the DynamoDB calls docs/data-model.md lists (counted here); and it loses
races to concurrent writers safely."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from inventory.config import ConfigurationError, Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.model import (
    MAIN_LOCATION_ID,
    AdjustStock,
    CreateItem,
    CreateLocation,
    Instant,
    Item,
    ItemFilter,
    MovementReason,
    OrderLine,
    ReserveStock,
    UpdateItem,
)
from inventory.service import InventoryService
from inventory.views import Json, item_view
from tests.unit.conftest import Clock

HOLD = timedelta(seconds=60)
Race = Callable[[str, Callable[[], object]], None]


@pytest.fixture
def calls(dynamodb: Any) -> Iterator[Counter[str]]:
    """DynamoDB calls made on the service's client, by operation name. Clear it before the step to measure."""
    counted: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    dynamodb.meta.events.register("before-call.dynamodb", count, unique_id="expiry-call-counter")
    yield counted
    dynamodb.meta.events.unregister("before-call.dynamodb", unique_id="expiry-call-counter")


def create(service: InventoryService, sku: str, quantity: int = 10, location_id: str = MAIN_LOCATION_ID) -> Item:
    return service.create_item(CreateItem(sku, sku, "tools", Decimal(1), quantity, None, None, location_id))


def reserve(
    service: InventoryService, reservation_id: str, lines: list[tuple[str, int]], location_id: str = MAIN_LOCATION_ID
) -> int:
    """A reservation of HOLD; its end, in epoch ms."""
    command = ReserveStock(reservation_id, tuple(OrderLine(*line) for line in lines), location_id, 60)
    return service.reserve_stock(command).ends_ms


def stored(service: InventoryService, item_id: str) -> Item:
    item = service.get_item(item_id)
    assert item is not None
    return item


def answers(service: InventoryService, *item_ids: str) -> list[Json]:
    """What a client reads of the items now, updatedAt included (it reads as of now too)."""
    return [item_view(stored(service, i), service.now().ms) for i in item_ids]


def at(clock: Clock, ms: int) -> None:
    """The clock set to epoch millisecond ``ms``."""
    clock.now = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)


def ended_hold(service: InventoryService, clock: Clock) -> Item:
    """SKU-1 with 3 held by reservation r-1, the clock 5 ms past that hold's end."""
    item = create(service, "SKU-1")
    ends = reserve(service, "r-1", [(item.id, 3)])
    at(clock, ends + 5)
    return item


@pytest.fixture
def rival(dynamodb: Any, settings: Settings, clock: Clock) -> InventoryService:
    """Another writer on the same table, through its own client: its calls are not counted with the service's."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    return InventoryService(DynamoDBInventoryRepository(client, settings.table_name), settings, clock=clock)


@pytest.fixture
def race(dynamodb: Any) -> Iterator[Race]:
    """race(operation, write): ``write`` lands just before the service's first ``operation`` call (reads done)."""
    armed: list[str] = []

    def arm(operation: str, write: Callable[[], object]) -> None:
        def land(**_: Any) -> None:
            if operation in armed:
                armed.remove(operation)
                write()

        armed.append(operation)
        dynamodb.meta.events.register(f"before-call.dynamodb.{operation}", land, unique_id=f"expiry-race-{operation}")

    yield arm
    for operation in ("PutItem", "TransactWriteItems"):
        dynamodb.meta.events.unregister(f"before-call.dynamodb.{operation}", unique_id=f"expiry-race-{operation}")


def test_an_ended_hold_is_tidied_off_its_item_in_one_write_and_no_answer_changes(
    service: InventoryService, clock: Clock, calls: Counter[str]
) -> None:
    item = create(service, "SKU-1")
    ends = reserve(service, "ended", [(item.id, 3)])
    clock.now += timedelta(seconds=30)
    later = reserve(service, "later", [(item.id, 2)])
    held = stored(service, item.id)
    at(clock, ends)  # the millisecond the hold ends: EXPIRED from it
    before = answers(service, item.id)
    assert (before[0]["reserved"], before[0]["available"]) == (2, 8)
    calls.clear()
    written = service.expire_reservation("ended")
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1}
    assert answers(service, item.id) == before
    assert written == (stored(service, item.id),)
    assert written[0].levels[MAIN_LOCATION_ID].holds == {later: 2}
    assert (written[0].version, written[0].stock_revision, written[0].holds_revision) == (
        held.version,
        held.stock_revision,
        held.holds_revision + 1,
    )
    assert written[0].updated_at == Instant.from_ms(ends).text  # when the figures changed, not when it was written


def test_an_item_reads_as_updated_at_its_holds_end_before_and_after_the_expiry_write(
    service: InventoryService, clock: Clock
) -> None:
    item = create(service, "SKU-1")
    ends = reserve(service, "r-1", [(item.id, 3)])
    reserved_at = service.now().text
    at(clock, ends - 1)
    assert [answers(service, item.id)[0][k] for k in ("reserved", "updatedAt")] == [3, reserved_at]
    at(clock, ends)
    at_end = answers(service, item.id)
    assert [at_end[0][k] for k in ("reserved", "updatedAt")] == [0, Instant.from_ms(ends).text]  # nothing written
    at(clock, ends + 5)
    assert answers(service, item.id) == at_end
    (written,) = service.expire_reservation("r-1")
    assert written.updated_at == Instant.from_ms(ends).text  # what reads answered already
    assert answers(service, item.id) == at_end


def test_a_released_holds_end_dates_nothing_and_an_emptied_hold_alone_is_not_written(
    service: InventoryService, clock: Clock, calls: Counter[str]
) -> None:
    item = create(service, "SKU-1")
    ends = reserve(service, "expiring", [(item.id, 3)])
    clock.now += timedelta(seconds=1)
    given_back_ends = reserve(service, "given-back", [(item.id, 2)])
    service.release_reservation("given-back")  # in place: leaves an emptied hold at its end
    assert stored(service, item.id).levels[MAIN_LOCATION_ID].holds == {ends: 3, given_back_ends: 0}
    at(clock, given_back_ends + 5)
    before = answers(service, item.id)
    assert before[0]["updatedAt"] == Instant.from_ms(ends).text  # the last end that gave units back
    (written,) = service.expire_reservation("expiring")
    # Dated at the end that gave units back; the emptied hold goes too.
    assert (written.updated_at, written.levels[MAIN_LOCATION_ID].holds) == (Instant.from_ms(ends).text, {})
    assert answers(service, item.id) == before

    # An emptied hold that has ended, and nothing else: its release was heard, its end changes nothing.
    clock.now += timedelta(seconds=1)
    later_ends = reserve(service, "later", [(item.id, 1)])
    service.release_reservation("later")
    released = stored(service, item.id)
    at(clock, later_ends + 5)
    assert answers(service, item.id)[0]["updatedAt"] == released.updated_at  # the release's, not the end's
    calls.clear()
    assert service.expire_reservation("expiring") == ()  # a late redelivery: its hold is long gone
    assert calls == {"GetItem": 1, "BatchGetItem": 1}
    assert stored(service, item.id) == released


def test_a_hold_not_ended_yet_is_left_alone_for_one_read(
    service: InventoryService, clock: Clock, calls: Counter[str]
) -> None:
    item = create(service, "SKU-1")
    ends = reserve(service, "r-1", [(item.id, 3)])
    at(clock, ends - 1)
    held = stored(service, item.id)
    calls.clear()
    assert service.expire_reservation("r-1") == ()
    assert calls == {"GetItem": 1}
    assert stored(service, item.id) == held


@pytest.mark.parametrize("end", ["commit", "release", "absent"])
def test_a_committed_released_or_unknown_reservation_writes_nothing_after_its_end(
    service: InventoryService, clock: Clock, calls: Counter[str], end: str
) -> None:
    item = create(service, "SKU-1")
    ends = reserve(service, "r-1", [(item.id, 3)])
    if end == "commit":
        service.commit_reservation("r-1")
    elif end == "release":
        service.release_reservation("r-1")  # leaves an empty hold behind (an UpdateItem in place): not an ended one
    left = stored(service, item.id)
    at(clock, ends + 1000)
    calls.clear()
    assert service.expire_reservation("r-1" if end != "absent" else "unknown") == ()
    assert calls == {"GetItem": 1}
    assert stored(service, item.id) == left


def test_a_hold_another_write_tidied_first_leaves_nothing_to_write(
    service: InventoryService, clock: Clock, calls: Counter[str]
) -> None:
    item = ended_hold(service, clock)
    service.adjust_stock(AdjustStock(item.id, 1, MovementReason.RECEIVED, None, "k-1"))  # every write tidies
    adjusted = stored(service, item.id)
    assert adjusted.levels[MAIN_LOCATION_ID].holds == {}
    calls.clear()
    assert service.expire_reservation("r-1") == ()
    assert calls == {"GetItem": 1, "BatchGetItem": 1}
    assert stored(service, item.id) == adjusted


def test_a_second_expiry_writes_nothing(service: InventoryService, clock: Clock, calls: Counter[str]) -> None:
    item = ended_hold(service, clock)
    (written,) = service.expire_reservation("r-1")
    clock.now += timedelta(seconds=1)
    calls.clear()
    assert service.expire_reservation("r-1") == ()
    assert calls == {"GetItem": 1, "BatchGetItem": 1}
    assert stored(service, item.id) == written


def test_every_ended_hold_of_the_reservations_items_goes_in_one_transaction_at_every_location(
    service: InventoryService, clock: Clock, calls: Counter[str]
) -> None:
    warehouse = service.create_location(CreateLocation("WH", "Warehouse"))
    drill, saw = create(service, "DRILL", 10), create(service, "SAW", 4, warehouse.id)
    service.adjust_stock(AdjustStock(drill.id, 5, MovementReason.RECEIVED, None, "k-1", warehouse.id))
    reserve(service, "main", [(drill.id, 2)])
    clock.now += timedelta(seconds=1)
    ends = reserve(service, "wh", [(drill.id, 3), (saw.id, 3)], warehouse.id)
    clock.now += timedelta(seconds=30)
    later_ends = reserve(service, "later", [(saw.id, 1)], warehouse.id)
    at(clock, ends + 1)
    before = answers(service, drill.id, saw.id)
    assert [(a["reserved"], a["available"]) for a in before] == [(0, 15), (1, 3)]
    calls.clear()
    written = service.expire_reservation("wh")
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    assert answers(service, drill.id, saw.id) == before
    assert written == (stored(service, drill.id), stored(service, saw.id))
    # The drill's hold at MAIN ended too (its own timer will find nothing left); the saw's later one stays.
    assert {i: {loc: dict(level.holds) for loc, level in item.levels.items()} for i, item in enumerate(written)} == {
        0: {MAIN_LOCATION_ID: {}, warehouse.id: {}},
        1: {warehouse.id: {later_ends: 1}},
    }
    assert written[0].updated_at == Instant.from_ms(ends).text  # the last of its holds to end: the WH one
    calls.clear()
    assert service.expire_reservation("main") == ()
    assert calls == {"GetItem": 1, "BatchGetItem": 1}
    at(clock, later_ends)
    before = answers(service, saw.id)
    (saw_written,) = service.expire_reservation("later")
    assert saw_written.levels == {warehouse.id: saw_written.levels[warehouse.id]._replace(holds={})}
    assert answers(service, saw.id) == before


def test_an_expiry_that_loses_to_a_write_that_tidied_writes_nothing_more(
    service: InventoryService, rival: InventoryService, clock: Clock, calls: Counter[str], race: Race
) -> None:
    item = ended_hold(service, clock)
    race("PutItem", lambda: rival.adjust_stock(AdjustStock(item.id, 1, MovementReason.RECEIVED, None, "k-1")))
    calls.clear()
    assert service.expire_reservation("r-1") == ()
    # The failed PutItem returned the item as it now is (tidied): decided again on it, with no read.
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1}
    after = stored(service, item.id)
    assert (after.quantity, after.levels[MAIN_LOCATION_ID].holds) == (11, {})


def test_an_expiry_that_loses_to_an_edit_tidies_the_edited_item(
    service: InventoryService, rival: InventoryService, clock: Clock, calls: Counter[str], race: Race
) -> None:
    item = ended_hold(service, clock)
    race("PutItem", lambda: rival.update_item(UpdateItem(item.id, 1, name="Renamed")))  # an edit tidies no hold
    calls.clear()
    (written,) = service.expire_reservation("r-1")
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "PutItem": 2}
    assert written == stored(service, item.id)
    assert (written.name, written.version, written.levels[MAIN_LOCATION_ID].holds) == ("Renamed", 2, {})
    assert written.updated_at == service.now().text  # the edit's, later than the hold's end: kept


def test_a_transaction_that_loses_on_one_item_tidies_the_rest_again_alone(
    service: InventoryService, rival: InventoryService, clock: Clock, calls: Counter[str], race: Race
) -> None:
    drill, saw = create(service, "DRILL"), create(service, "SAW")
    ends = reserve(service, "r-1", [(drill.id, 3), (saw.id, 2)])
    at(clock, ends)
    before = answers(service, drill.id, saw.id)
    race("TransactWriteItems", lambda: rival.adjust_stock(AdjustStock(saw.id, 1, MovementReason.RECEIVED, None, "k")))
    calls.clear()
    (written,) = service.expire_reservation("r-1")
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1, "PutItem": 1}
    assert written == stored(service, drill.id)
    assert written.levels[MAIN_LOCATION_ID].holds == {}
    assert answers(service, drill.id) == before[:1]


def test_a_service_built_without_the_page_token_secret_expires_but_can_issue_no_page_token(
    dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """The expiry handler's service (its function is given no secret): expiring needs none; a listing that would
    need a token fails as the deployment mistake it would be, and a listing that needs none is still answered."""
    unkeyed = InventoryService(
        DynamoDBInventoryRepository(dynamodb, settings.table_name),
        replace(settings, page_token_secret=None),
        clock=clock,
    )
    item = ended_hold(unkeyed, clock)
    create(unkeyed, "SKU-2")

    assert [tidied.id for tidied in unkeyed.expire_reservation("r-1")] == [item.id]
    assert len(unkeyed.list_items(ItemFilter(), 10, None).items) == 2
    with pytest.raises(ConfigurationError, match="no page-token secret is configured"):
        unkeyed.list_items(ItemFilter(), 1, None)
