"""The v2 stock writes on both implementations of the port: the DynamoDB adapter (on moto) and the in-memory fake the
other unit tests drive races with. One script of reservations, transfers and counts must read the same on both, so
the fake stays faithful and the adapter's expressions (a release's in-place UpdateItem above all) do what the model
does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.model import (
    MAIN_LOCATION_ID,
    AdjustStock,
    CountLine,
    CreateItem,
    CreateLocation,
    FulfillOrder,
    IdempotencyConflict,
    MovementReason,
    OrderLine,
    ReservationNotActive,
    ReservationStatus,
    ReserveStock,
    SetStock,
    StockLevel,
    TransferStock,
)
from inventory.repository import InventoryRepository
from inventory.service import InventoryService
from tests.unit.conftest import Clock
from tests.unit.fake_repository import FakeRepository


@pytest.fixture(params=["fake", "dynamodb"])
def repository(request: pytest.FixtureRequest, settings: Settings) -> Iterator[InventoryRepository]:
    if request.param == "fake":
        yield FakeRepository()
    else:
        yield DynamoDBInventoryRepository(request.getfixturevalue("dynamodb"), settings.table_name)


@pytest.fixture
def service(repository: InventoryRepository, settings: Settings, clock: Clock) -> InventoryService:
    ids = count(1)
    return InventoryService(repository, settings, clock=clock, new_id=lambda: f"id-{next(ids)}")


def figures(service: InventoryService, item_id: str) -> list[tuple[str, int, int, int]]:
    item = service.get_item(item_id)
    assert item is not None
    levels: tuple[StockLevel, ...] = item.stock_levels(service.now().ms)
    return [(level.location_code, level.on_hand, level.reserved, level.available) for level in levels]


def ledger(service: InventoryService, item_id: str) -> list[tuple[Any, ...]]:
    page = service.list_movements(item_id, 100, None)
    return [
        (m.sequence, m.reason.value, m.delta, m.quantity_after, m.location_id, m.location_quantity_after)
        for m in reversed(page.items)
    ]


def test_reservations_read_the_same_on_both_storages(service: InventoryService, clock: Clock) -> None:
    item = service.create_item(CreateItem("SKU-1", "Widget", "tools", Decimal(1), 10, None, None))
    service.reserve_stock(ReserveStock("kept", (OrderLine(item.id, 3),)))
    service.reserve_stock(ReserveStock("sold", (OrderLine(item.id, 2),)))
    service.reserve_stock(ReserveStock("short", (OrderLine(item.id, 4),), expires_in_seconds=1))
    assert figures(service, item.id) == [("MAIN", 10, 9, 1)]
    clock.now += timedelta(milliseconds=1)
    released = service.release_reservation("kept")
    assert released.state is ReservationStatus.RELEASED
    assert figures(service, item.id) == [("MAIN", 10, 6, 4)]
    written = service.get_item(item.id)
    assert written is not None and (written.updated_at, written.stock_revision) == (service.now().text, 1)
    committed = service.commit_reservation("sold")
    assert [(m.delta, m.reference, m.location_quantity_after) for m in committed.movements] == [(-2, "sold", 8)]
    assert service.get_reservation("sold") == committed
    assert figures(service, item.id) == [("MAIN", 8, 4, 4)]
    clock.now += timedelta(milliseconds=999)
    assert figures(service, item.id) == [("MAIN", 8, 0, 8)]  # "short" ended, nothing ran
    assert service.release_reservation("short") == service.get_reservation("short")
    with pytest.raises(ReservationNotActive) as caught:
        service.commit_reservation("short")
    assert caught.value.status is ReservationStatus.EXPIRED
    assert service.fulfill_order(FulfillOrder("order-1", (OrderLine(item.id, 8),))).movements[0].quantity_after == 0
    assert ledger(service, item.id) == [
        (1, "RECEIVED", 10, 10, MAIN_LOCATION_ID, 10),
        (2, "SOLD", -2, 8, MAIN_LOCATION_ID, 8),
        (3, "SOLD", -8, 0, MAIN_LOCATION_ID, 0),
    ]
    assert service.reserve_stock(ReserveStock("kept", (OrderLine(item.id, 3),))) == released


def test_transfers_and_counts_read_the_same_on_both_storages(service: InventoryService) -> None:
    warehouse = service.create_location(CreateLocation("WH", "Warehouse"))
    item = service.create_item(CreateItem("SKU-1", "Widget", "tools", Decimal(1), 10, None, None))
    other = service.create_item(CreateItem("SKU-2", "Gadget", "tools", Decimal(1), 4, None, None))
    transfer = service.transfer_stock(
        TransferStock("t", MAIN_LOCATION_ID, warehouse.id, (OrderLine(item.id, 6), OrderLine(other.id, 4)))
    )
    assert len(transfer.movements) == 4
    assert figures(service, item.id) == [("MAIN", 4, 0, 4), ("WH", 6, 0, 6)]
    assert figures(service, other.id) == [("WH", 4, 0, 4)]
    counted = service.set_stock(SetStock("s", (CountLine(item.id, 6, 6), CountLine(other.id, 1)), warehouse.id))
    assert [(m.item_id, m.delta) for m in counted] == [(other.id, -3)]
    with pytest.raises(IdempotencyConflict):
        service.adjust_stock(AdjustStock(item.id, 1, MovementReason.RECEIVED, None, "s"))
    assert service.set_stock(SetStock("s", (CountLine(other.id, 1), CountLine(item.id, 6, 6)), warehouse.id)) == counted
    assert ledger(service, item.id) == [
        (1, "RECEIVED", 10, 10, MAIN_LOCATION_ID, 10),
        (2, "TRANSFER_OUT", -6, 4, MAIN_LOCATION_ID, 4),
        (3, "TRANSFER_IN", 6, 10, warehouse.id, 6),
    ]
    assert ledger(service, other.id)[-1] == (4, "CORRECTION", -3, 1, warehouse.id, 1)
    assert [location.code for location in service.list_locations()] == ["MAIN", "WH"]


def test_records_written_by_v1_read_as_stock_at_main_and_take_v2_writes(dynamodb: Any, settings: Settings) -> None:
    repository = DynamoDBInventoryRepository(dynamodb, settings.table_name)
    service = InventoryService(repository, settings, clock=Clock())
    v2 = service.create_item(CreateItem("SKU-1", "Widget", "tools", Decimal(1), 7, None, None))
    (movement,) = service.list_movements(v2.id, 10, None).items
    # As v1 wrote them: no levels, no holdsRevision; movements without a location.
    item_record = {k: v for k, v in dynamodb_item(dynamodb, settings, v2.id, "ITEM").items()
                   if k not in ("levels", "holdsRevision")}  # fmt: skip
    movement_sk = "MOVEMENT#000000000001"
    movement_record = {k: v for k, v in dynamodb_item(dynamodb, settings, v2.id, movement_sk).items()
                       if k not in ("locationId", "locationQuantityAfter")}  # fmt: skip
    for record in (item_record, movement_record):
        dynamodb.put_item(TableName=settings.table_name, Item=record)
    v1 = service.get_item(v2.id)
    assert v1 == v2._replace(holds_revision=0)
    assert service.list_movements(v2.id, 10, None).items == (movement,)
    service.reserve_stock(ReserveStock("r", (OrderLine(v2.id, 2),)))
    sold = service.adjust_stock(AdjustStock(v2.id, -5, MovementReason.SOLD, None, "k"))
    assert (sold.quantity_after, sold.location_quantity_after, figures(service, v2.id)) == (2, 2, [("MAIN", 2, 2, 0)])


def dynamodb_item(client: Any, settings: Settings, item_id: str, sk: str) -> dict[str, Any]:
    key = {"pk": {"S": f"ITEM#{item_id}"}, "sk": {"S": sk}}
    record: dict[str, Any] = client.get_item(TableName=settings.table_name, Key=key)["Item"]
    return record


def test_an_expiry_tidies_the_same_on_both_storages(service: InventoryService, clock: Clock) -> None:
    item = service.create_item(CreateItem("SKU-1", "Widget", "tools", Decimal(1), 10, None, None))
    other = service.create_item(CreateItem("SKU-2", "Gadget", "tools", Decimal(1), 10, None, None))
    ends = service.reserve_stock(
        ReserveStock("cart", (OrderLine(item.id, 3), OrderLine(other.id, 2)), expires_in_seconds=1)
    ).ends_ms
    service.reserve_stock(ReserveStock("later", (OrderLine(item.id, 1),)))
    assert service.expire_reservation("cart") == ()  # not ended yet
    clock.advance(1000)
    before = [figures(service, item.id), figures(service, other.id)]
    written = service.expire_reservation("cart")
    assert written == (service.get_item(item.id), service.get_item(other.id))
    assert (
        [figures(service, item.id), figures(service, other.id)]
        == before
        == [[("MAIN", 10, 1, 9)], [("MAIN", 10, 0, 10)]]
    )
    assert [dict(w.levels["MAIN"].holds) for w in written] == [{ends + 899_000: 1}, {}]
    assert service.expire_reservation("cart") == ()
