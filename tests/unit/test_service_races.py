"""The service through lost races and retry exhaustion, driven deterministically on the in-memory fake repository:
a concurrent writer is scripted to land just before the service's write, and the items are read before and after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest

from inventory.config import Settings
from inventory.model import (
    MAIN_LOCATION,
    AdjustStock,
    CreateItem,
    FulfillOrder,
    IdempotencyConflict,
    Instant,
    InsufficientStock,
    Item,
    ItemNotFound,
    MovementReason,
    OrderLine,
    RequestKind,
    RequestRecord,
    Shortfall,
    UpdateItem,
    VersionConflict,
)
from inventory.retry import TooMuchContention
from inventory.service import InventoryService
from tests.unit.conftest import NOW
from tests.unit.fake_repository import FakeRepository

MAX_ATTEMPTS = 4
LATER = Instant.of(NOW + timedelta(seconds=1))  # when a concurrent writer lands
Race = Callable[[FakeRepository], None]  # a concurrent writer, landing just before the service's next write


class Sleeps(list[float]):
    """Records the back-off pauses instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def repository() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def service(repository: FakeRepository, settings: Settings, sleeps: Sleeps) -> InventoryService:
    ids = count(1)
    return InventoryService(
        repository,
        settings,
        clock=lambda: NOW,
        new_id=lambda: f"id-{next(ids)}",
        max_attempts=MAX_ATTEMPTS,
        sleep=sleeps,
    )


def create(service: InventoryService, quantity: int = 5, sku: str = "SKU-1") -> Item:
    return service.create_item(CreateItem(sku, "Widget", "tools", Decimal("9.99"), quantity, None, None))


def sell(item_id: str, quantity: int) -> Race:
    """A concurrent sale that lands before the service writes."""

    def race(repository: FakeRepository) -> None:
        item = repository.items[item_id]
        sold = item.moved(MAIN_LOCATION, -quantity, MovementReason.SOLD, None, now=LATER, movement_id="other")
        repository.items[item_id] = sold.after

    return race


def edit(item_id: str) -> Race:
    def race(repository: FakeRepository) -> None:
        item = repository.items[item_id]
        repository.items[item_id] = item._replace(name="edited elsewhere", version=item.version + 1)

    return race


def remove(item_id: str) -> Race:
    def race(repository: FakeRepository) -> None:
        del repository.items[item_id]

    return race


def adjust(item_id: str, delta: int, key: str = "key-1") -> AdjustStock:
    reason = MovementReason.CORRECTION
    return AdjustStock(item_id, delta, reason, None, key)


# updateItem


def test_update_that_loses_to_a_sale_is_decided_again_on_the_sold_item(
    service: InventoryService, repository: FakeRepository, sleeps: Sleeps
) -> None:
    item = create(service)
    repository.races.append(sell(item.id, 2))
    updated = service.update_item(UpdateItem(item.id, 1, name="Renamed"))
    assert (updated.name, updated.quantity, updated.version) == ("Renamed", 3, 2)
    assert repository.items[item.id] == updated
    assert (repository.writes, sleeps) == (3, [])  # create, the lost write, the retry; no pause: storage told


def test_update_that_loses_to_an_edit_is_a_version_conflict_and_writes_nothing(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    repository.races.append(edit(item.id))
    with pytest.raises(VersionConflict) as caught:
        service.update_item(UpdateItem(item.id, 1, name="Renamed"))
    assert (caught.value.expected_version, caught.value.current_version) == (1, 2)
    assert repository.items[item.id].name == "edited elsewhere"


def test_update_of_an_item_deleted_meanwhile_is_item_not_found(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    repository.races.append(remove(item.id))
    with pytest.raises(ItemNotFound):
        service.update_item(UpdateItem(item.id, 1, name="Renamed"))
    assert item.id not in repository.items


def test_a_bare_conflict_is_retried_after_a_jittered_growing_pause(
    service: InventoryService, repository: FakeRepository, sleeps: Sleeps
) -> None:
    item = create(service)
    repository.conflicts = MAX_ATTEMPTS - 1
    updated = service.update_item(UpdateItem(item.id, 1, name="Renamed"))
    assert repository.items[item.id] == updated
    assert len(sleeps) == MAX_ATTEMPTS - 1
    assert all(0 <= pause <= min(0.2, 0.005 * 2**attempt) for attempt, pause in enumerate(sleeps))


# deleteItem


def test_delete_that_loses_to_a_sale_deletes_and_returns_the_item_as_it_is_now(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    repository.races.append(sell(item.id, 5))
    deleted = service.delete_item(item.id)
    assert deleted is not None and deleted.quantity == 0
    assert repository.items == {}


def test_delete_of_an_item_deleted_meanwhile_returns_none(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    repository.races.append(remove(item.id))
    assert service.delete_item(item.id) is None


# adjustStock and fulfillOrder


def test_adjustment_that_loses_to_a_sale_is_refused_on_the_stock_left(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    repository.races.append(sell(item.id, 4))
    with pytest.raises(InsufficientStock) as caught:
        service.adjust_stock(adjust(item.id, -3))
    assert caught.value.shortfalls == (Shortfall(item.id, 1, 3),)
    assert (repository.items[item.id].quantity, repository.requests) == (1, {})  # the key is not used up


def test_adjustment_of_an_item_deleted_meanwhile_is_item_not_found(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    repository.races.append(remove(item.id))
    with pytest.raises(ItemNotFound):
        service.adjust_stock(adjust(item.id, 1))
    assert repository.requests == {}


def test_order_that_loses_to_a_sale_is_applied_on_the_fresh_stock(
    service: InventoryService, repository: FakeRepository, sleeps: Sleeps
) -> None:
    item = create(service)
    repository.races.append(sell(item.id, 1))
    result = service.fulfill_order(FulfillOrder("order-1", (OrderLine(item.id, 4),)))
    assert [(m.delta, m.quantity_after) for m in result.movements] == [(-4, 0)]
    assert repository.items[item.id].quantity == 0
    assert sleeps == []


def test_a_concurrent_identical_request_that_won_is_answered_from_its_record(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    command = adjust(item.id, 2)
    winner = item.moved(MAIN_LOCATION, 2, MovementReason.CORRECTION, None, now=LATER, movement_id="winner")

    def same_request(repository: FakeRepository) -> None:
        record = RequestRecord(RequestKind.ADJUST_STOCK, "key-1", command.fingerprint, winner.movements, None)
        repository.apply_stock_changes([winner], record)

    repository.races.append(same_request)
    assert (service.adjust_stock(command),) == winner.movements
    assert repository.items[item.id].quantity == 7  # applied once, by the winner


def test_a_concurrent_request_with_the_same_key_and_other_input_is_an_idempotency_conflict(
    service: InventoryService, repository: FakeRepository
) -> None:
    item = create(service)
    other = item.moved(MAIN_LOCATION, 1, MovementReason.CORRECTION, None, now=LATER, movement_id="other")

    def other_request(repository: FakeRepository) -> None:
        record = RequestRecord(RequestKind.ADJUST_STOCK, "key-1", "another fingerprint", other.movements, None)
        repository.apply_stock_changes([other], record)

    repository.races.append(other_request)
    with pytest.raises(IdempotencyConflict) as caught:
        service.adjust_stock(adjust(item.id, 2))
    assert (caught.value.kind, caught.value.key) == (RequestKind.ADJUST_STOCK, "key-1")
    assert repository.items[item.id].quantity == 6


# Exhaustion


@pytest.mark.parametrize("use_case", ["create", "update", "delete", "adjust", "fulfill"])
def test_writes_that_keep_losing_give_up_after_max_attempts_and_write_nothing(
    service: InventoryService, repository: FakeRepository, sleeps: Sleeps, use_case: str
) -> None:
    item = create(service)
    before, writes = dict(repository.items), repository.writes
    repository.conflicts = MAX_ATTEMPTS
    calls: dict[str, Callable[[], object]] = {
        "create": lambda: create(service, sku="SKU-2"),
        "update": lambda: service.update_item(UpdateItem(item.id, 1, name="Renamed")),
        "delete": lambda: service.delete_item(item.id),
        "adjust": lambda: service.adjust_stock(adjust(item.id, 1)),
        "fulfill": lambda: service.fulfill_order(FulfillOrder("order-1", (OrderLine(item.id, 1),))),
    }
    with pytest.raises(TooMuchContention):
        calls[use_case]()
    assert repository.writes - writes == MAX_ATTEMPTS
    assert len(sleeps) == MAX_ATTEMPTS
    assert (repository.items, repository.requests) == (before, {})
