"""Subscriptions fed from the data: the local server (``python -m devserver``) reads its table's stream and publishes
each change, whatever mutation made it, to the subscribers whose arguments match, over graphql-transport-ws.

Each case runs on items, a location and a category of its own, with four subscribers listening: one item
(``onItemChanged(id)``, ``onStockMovement(itemId)``), one location (``onStockMovement(locationId)``) and one category
(``onLowStock(category)``). A subscriber must hear exactly what the change means to it; how long a case waits for
that is tests/contract/subscriptions.py's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport
from starlette.testclient import TestClient

from devserver import user_pool
from devserver.app import create_app
from devserver.storage import in_memory
from devserver.stream import TableStream
from inventory import operations
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.events import Event, EventKind, events_of, publish_request
from inventory.service import InventoryService
from inventory.table import ensure_table
from tests.conftest import TEST_SECRET
from tests.contract.server import ServerProcess
from tests.contract.subscriptions import (
    STOCKED,
    Expected,
    Subscriber,
    Watch,
    category_low_stock,
    item_changes,
    item_movements,
    listening,
    live,
    location_movements,
    project_movement,
    request,
    settled,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("events") / "local-data") as process:
        yield process


def _subscribers(watch: Watch) -> list[Subscriber]:
    return [item_changes(watch), item_movements(watch), location_movements(watch), category_low_stock(watch)]


Case = Callable[[Watch], Awaitable[Expected]]


async def _create_with_initial_stock(watch: Watch) -> Expected:
    new = await watch.create(watch.category, quantity=3, location=watch.location)
    # Starts low (3 <= 5): heard by its category; its RECEIVED movement by its location; not by the other item's.
    return {
        "location movements": [(new["id"], watch.location, 3, "RECEIVED")],
        "category low stock": [(new["id"], 3, True)],
    }


async def _create_elsewhere(watch: Watch) -> Expected:
    await watch.create(f"{watch.category}-other", quantity=20)  # another category, MAIN, not low: nobody here
    return {}


async def _update(watch: Watch) -> Expected:
    version = (await watch.run("get-item", id=watch.item, movementsLimit=1))["getItem"]["version"]
    change = {"id": watch.item, "expectedVersion": version, "reorderPoint": 50}  # crosses into low stock
    await watch.run("update-item", input=change)
    return {"item changes": [(watch.item, STOCKED, True)], "category low stock": [(watch.item, STOCKED, True)]}


async def _delete(watch: Watch) -> Expected:
    await watch.run("delete-item", id=watch.item)
    return {"item changes": [(watch.item, STOCKED, False)]}  # heard as it was; crossing nothing


async def _adjust(watch: Watch) -> Expected:
    await watch.adjust(watch.other, 4, location="MAIN")  # another item elsewhere: nobody here
    await watch.adjust(watch.item, -6)  # 10 -> 4: into low stock
    sold = (watch.item, watch.location, -6, "SOLD")
    return {
        "item changes": [(watch.item, 4, True)],
        "item movements": [sold],
        "location movements": [sold],
        "category low stock": [(watch.item, 4, True)],
    }


async def _fulfill(watch: Watch) -> Expected:
    await watch.adjust(watch.other, 3)  # the other item's stock at the watched location
    order = {
        "orderId": watch.key(),
        "locationId": watch.location,
        "lines": [{"itemId": watch.item, "quantity": 2}, {"itemId": watch.other, "quantity": 1}],
    }
    movements = (await watch.run("fulfill-order", input=order))["fulfillOrder"]["movements"]
    mine, theirs = (
        next(project_movement(m) for m in movements if m["itemId"] == item) for item in (watch.item, watch.other)
    )
    return {
        "item changes": [(watch.item, STOCKED - 2, False)],
        "item movements": [mine],
        "location movements": [(watch.other, watch.location, 3, "RECEIVED"), mine, theirs],
    }


async def _reserve_commit_release(watch: Watch) -> Expected:
    hold = {"locationId": watch.location, "lines": [{"itemId": watch.item, "quantity": 3}]}
    await watch.run("reserve-stock", input={**hold, "reservationId": "cart-a"})
    committed = (await watch.run("commit-reservation", id="cart-a"))["commitReservation"]
    await watch.run("reserve-stock", input={**hold, "reservationId": "cart-b"})
    await watch.run("release-reservation", id="cart-b")
    (sold,) = (project_movement(m) for m in committed["movements"])
    after = STOCKED - 3
    # Holding and releasing change the item (its reservations), not its stock: no movement, no crossing.
    return {
        "item changes": [(watch.item, STOCKED, False), (watch.item, after, False)] + [(watch.item, after, False)] * 2,
        "item movements": [sold],
        "location movements": [sold],
    }


async def _transfer(watch: Watch) -> Expected:
    transfer = {
        "idempotencyKey": watch.key(),
        "fromLocationId": watch.location,
        "toLocationId": "MAIN",
        "lines": [{"itemId": watch.item, "quantity": 4}],
    }
    movements = [
        project_movement(m) for m in (await watch.run("transfer-stock", input=transfer))["transferStock"]["movements"]
    ]
    assert {(location, delta) for _, location, delta, _ in movements} == {(watch.location, -4), ("MAIN", 4)}
    return {
        "item changes": [(watch.item, STOCKED, False)],  # the total stays
        "item movements": movements,
        "location movements": [movement for movement in movements if movement[1] == watch.location],
    }


async def _set(watch: Watch) -> Expected:
    count = {
        "idempotencyKey": watch.key(),
        "locationId": watch.location,
        "lines": [{"itemId": watch.item, "onHand": 2}, {"itemId": watch.other, "onHand": 0}],
    }
    movements = (await watch.run("set-stock", input=count))["setStock"]["movements"]
    (counted,) = (project_movement(m) for m in movements if m["itemId"] == watch.item)
    assert counted[2] == 2 - STOCKED
    return {
        "item changes": [(watch.item, 2, True)],
        "item movements": [counted],
        "location movements": [counted],
        "category low stock": [(watch.item, 2, True)],
    }


CASES: dict[str, Case] = {
    "createItem with initial stock": _create_with_initial_stock,
    "createItem elsewhere": _create_elsewhere,
    "updateItem": _update,
    "deleteItem": _delete,
    "adjustStock": _adjust,
    "fulfillOrder": _fulfill,
    "reserveStock, commitReservation, releaseReservation": _reserve_commit_release,
    "transferStock": _transfer,
    "setStock": _set,
}


async def _case(server: ServerProcess, case: Case) -> tuple[Expected, Expected]:
    transport = HTTPXAsyncTransport(server.url, headers={"x-api-key": server.api_key}, timeout=30)
    async with Client(transport=transport) as http:
        tag = uuid.uuid4().hex[:10]
        location = await http.execute(request("create-location", input={"code": f"L-{tag.upper()}", "name": tag}))
        category = f"cat-{tag}"
        watch = Watch(http, "", location["createLocation"]["id"], category, "")
        watch.item = (await watch.create(category))["id"]
        watch.other = (await watch.create(f"{category}-other", quantity=20))["id"]
        subscribers = _subscribers(watch)
        async with listening(server, subscribers):
            await live(watch, subscribers)
            assert await watch.state(watch.item) == (watch.item, STOCKED, False)
            expected = await case(watch)
            await settled(subscribers, expected)
    return {s.name: s.heard for s in subscribers}, {s.name: expected.get(s.name, []) for s in subscribers}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_subscriber_hears_exactly_the_changes_its_arguments_select(server: ServerProcess, case: Case) -> None:
    heard, expected = asyncio.run(_case(server, case))
    assert heard == expected


def test_in_memory_storage_feeds_the_subscriptions_too(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "local-data", "--memory") as memory:
        heard, expected = asyncio.run(_case(memory, _fulfill))
    assert heard == expected


NEW_ITEM = {"sku": "STREAM-1", "name": "n", "category": "c", "price": 1}


def _stream_reads_from_its_start(service: InventoryService, stream: TableStream) -> None:
    before = operations.create_item(service, {"input": NEW_ITEM})
    stream.start()
    after = operations.create_item(service, {"input": {**NEW_ITEM, "sku": "STREAM-2"}})
    events = [event for record in stream.read() for event in events_of(record, 0)]
    assert {event.item_id for event in events} == {after["id"]} != {before["id"]}
    assert [event.kind for event in events] == [EventKind.ITEM_CHANGED, EventKind.LOW_STOCK]
    assert stream.read() == []


def test_the_stream_is_read_from_the_server_start_on_dynamodb_local(
    service: InventoryService, stream: TableStream
) -> None:
    _stream_reads_from_its_start(service, stream)


def test_the_stream_is_read_from_the_server_start_in_memory() -> None:
    with in_memory() as storage:
        ensure_table(storage.client, "inventory")
        settings = Settings(table_name="inventory", page_token_secret=TEST_SECRET.encode())
        service = InventoryService(DynamoDBInventoryRepository(storage.client, "inventory"), settings)
        _stream_reads_from_its_start(service, TableStream(storage.streams, storage.client, "inventory"))


@pytest.mark.parametrize("credentials", ["api key", "writers' token"])
def test_api_key_and_cognito_callers_cannot_publish(service: InventoryService, credentials: str) -> None:
    key, secret = "da2-testtesttesttesttesttest12", "local-user-pool-secret-for-the-tests-only"
    headers = (
        {"x-api-key": key}
        if credentials == "api key"
        else {"authorization": user_pool.mint(secret, username="alice", groups=["inventory-writers"])}
    )
    event = Event(EventKind.ITEM_CHANGED, "e:ItemChanged", "x", {"id": "x", "sku": "FAKE"})
    query, variables = publish_request(event)
    app = create_app(service, api_key=key, user_pool_secret=secret)
    with TestClient(app, base_url="http://127.0.0.1:4000") as client:
        answer = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
    assert answer["data"] == {"publishItemChanged": None}
    assert [error["errorType"] for error in answer["errors"]] == ["Unauthorized"]
