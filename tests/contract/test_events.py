"""Subscriptions fed from the data: the local server (``python -m devserver``) reads its table's stream and publishes
each change, whatever mutation made it, to the subscribers whose arguments match, over graphql-transport-ws.

Each case runs on items, a location and a category of its own, with four subscribers listening: one item
(``onItemChanged(id)``, ``onStockMovement(itemId)``), one location (``onStockMovement(locationId)``) and one category
(``onLowStock(category)``). A subscriber must hear exactly what the change means to it. Events arrive one stream poll
after the change, so a case waits until every expected event came (a generous bound), then for a quiet moment in
which nothing more may come.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
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
from tests.contract.examples import document
from tests.contract.server import ServerProcess

Json = dict[str, Any]

ARRIVAL_TIMEOUT_SECONDS = 30  # a bound, not an expectation: events come one poll (~0.15 s) after the change
QUIET_SECONDS = 1.0  # after the expected events, how long nothing else may come
REORDER_POINT = 5
STOCKED = 10  # the item under watch starts every case with this much at the watched location, above its reorder point

ITEM_FIELDS = "{ id quantity lowStock }"
MOVEMENT_FIELDS = "{ itemId locationId delta reason }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("events") / "local-data") as process:
        yield process


def _request(name: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document(name), variable_values=variables)


def _item(event: Json) -> tuple[Any, ...]:
    return (event["id"], event["quantity"], event["lowStock"])


def _movement(event: Json) -> tuple[Any, ...]:
    return (event["itemId"], event["locationId"], event["delta"], event["reason"])


@dataclass
class Subscriber:
    name: str
    query: str
    variables: Json
    project: Callable[[Json], tuple[Any, ...]]
    heard: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Watch:
    """What a case works on: the watched item, location and category, another item, and the HTTP session."""

    http: AsyncClientSession
    item: str
    location: str
    category: str
    other: str
    keys: Iterator[int] = field(default_factory=itertools.count)

    async def run(self, name: str, **variables: Any) -> Json:
        result: Json = await self.http.execute(_request(name, **variables))
        return result

    def key(self) -> str:
        return f"key-{uuid.uuid4().hex}-{next(self.keys)}"

    async def adjust(self, item: str, delta: int, location: str | None = None) -> Json:
        movement = {
            "itemId": item,
            "delta": delta,
            "reason": "RECEIVED" if delta > 0 else "SOLD",
            "idempotencyKey": self.key(),
            "locationId": location or self.location,
        }
        answer: Json = (await self.run("adjust-stock", input=movement))["adjustStock"]
        return answer

    async def state(self, item: str) -> tuple[Any, ...]:
        found = (await self.run("get-item", id=item, movementsLimit=1))["getItem"]
        return _item(found)

    async def create(self, category: str, quantity: int = 0, location: str | None = None) -> Json:
        new = {
            "sku": f"EVT-{uuid.uuid4().hex[:12]}",
            "name": "Watched",
            "category": category,
            "price": 1.5,
            "quantity": quantity,
            "reorderPoint": REORDER_POINT,
            "locationId": location,
        }
        answer: Json = (await self.run("create-item", input=new))["createItem"]
        return answer


def _subscribers(watch: Watch) -> list[Subscriber]:
    return [
        Subscriber(
            "item changes",
            f"subscription($id: ID) {{ onItemChanged(id: $id) {ITEM_FIELDS} }}",
            {"id": watch.item},
            _item,
        ),
        Subscriber(
            "item movements",
            f"subscription($itemId: ID) {{ onStockMovement(itemId: $itemId) {MOVEMENT_FIELDS} }}",
            {"itemId": watch.item},
            _movement,
        ),
        Subscriber(
            "location movements",
            f"subscription($locationId: ID) {{ onStockMovement(locationId: $locationId) {MOVEMENT_FIELDS} }}",
            {"locationId": watch.location},
            _movement,
        ),
        Subscriber(
            "category low stock",
            f"subscription($category: String) {{ onLowStock(category: $category) {ITEM_FIELDS} }}",
            {"category": watch.category},
            _item,
        ),
    ]


Expected = dict[str, list[tuple[Any, ...]]]
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
    mine, theirs = (next(_movement(m) for m in movements if m["itemId"] == item) for item in (watch.item, watch.other))
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
    (sold,) = (_movement(m) for m in committed["movements"])
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
        _movement(m) for m in (await watch.run("transfer-stock", input=transfer))["transferStock"]["movements"]
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
    (counted,) = (_movement(m) for m in movements if m["itemId"] == watch.item)
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


@contextlib.asynccontextmanager
async def _listening(server: ServerProcess, subscribers: list[Subscriber]) -> AsyncIterator[None]:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"x-api-key": server.api_key},
    )
    async with Client(transport=transport) as session:

        async def listen(subscriber: Subscriber) -> None:
            request = GraphQLRequest(subscriber.query, variable_values=subscriber.variables)
            async for result in session.subscribe(request):
                (event,) = result.values()
                subscriber.heard.append(subscriber.project(event))

        tasks = [asyncio.create_task(listen(subscriber)) for subscriber in subscribers]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _settled(subscribers: list[Subscriber], expected: Expected) -> None:
    """Until each subscriber heard as many events as expected (or the bound passed), then a quiet moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ARRIVAL_TIMEOUT_SECONDS
    while loop.time() < deadline and any(len(s.heard) < len(expected.get(s.name, [])) for s in subscribers):
        await asyncio.sleep(0.05)
    await _quiet(subscribers)


async def _quiet(subscribers: list[Subscriber]) -> None:
    counts: list[int] = []
    while counts != [len(s.heard) for s in subscribers]:
        counts = [len(s.heard) for s in subscribers]
        await asyncio.sleep(QUIET_SECONDS)


async def _live(watch: Watch, subscribers: list[Subscriber]) -> None:
    """Subscriptions go live a moment after they are sent: move the watched item's stock in and out of low stock at
    the watched location (which every subscriber hears) until each has heard something, ending with it stocked."""
    low = True  # created with nothing
    for _ in range(ARRIVAL_TIMEOUT_SECONDS * 4):
        await watch.adjust(watch.item, STOCKED if low else -STOCKED)
        low = not low
        await asyncio.sleep(0.25)
        if not low and all(s.heard for s in subscribers):
            break
    await _quiet(subscribers)
    assert all(s.heard for s in subscribers), [s.name for s in subscribers if not s.heard]
    for subscriber in subscribers:
        subscriber.heard.clear()


async def _case(server: ServerProcess, case: Case) -> tuple[Expected, Expected]:
    transport = HTTPXAsyncTransport(server.url, headers={"x-api-key": server.api_key}, timeout=30)
    async with Client(transport=transport) as http:
        tag = uuid.uuid4().hex[:10]
        location = await http.execute(_request("create-location", input={"code": f"L-{tag.upper()}", "name": tag}))
        category = f"cat-{tag}"
        watch = Watch(http, "", location["createLocation"]["id"], category, "")
        watch.item = (await watch.create(category))["id"]
        watch.other = (await watch.create(f"{category}-other", quantity=20))["id"]
        subscribers = _subscribers(watch)
        async with _listening(server, subscribers):
            await _live(watch, subscribers)
            assert await watch.state(watch.item) == (watch.item, STOCKED, False)
            expected = await case(watch)
            await _settled(subscribers, expected)
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
