"""Subscribers over graphql-transport-ws to the local server (``python -m devserver``), and the watched item,
location and category they listen to: shared by the contract tests of the published events (test_events.py,
test_expiry_events.py). Events arrive one stream poll after the change, so a test waits until every expected event
came (a generous bound), then for a quiet moment in which nothing more may come."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport

from tests.contract.examples import document
from tests.contract.server import ServerProcess

Json = dict[str, Any]
Expected = dict[str, list[tuple[Any, ...]]]  # by subscriber name, what it hears

ARRIVAL_TIMEOUT_SECONDS = 30  # a bound, not an expectation: events come one poll (~0.15 s) after the change
QUIET_SECONDS = 1.0  # after the expected events, how long nothing else may come
REORDER_POINT = 5
STOCKED = 10  # the item under watch starts every case with this much at the watched location, above its reorder point

ITEM_FIELDS = "{ id quantity lowStock }"
MOVEMENT_FIELDS = "{ itemId locationId delta reason }"


def request(name: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document(name), variable_values=variables)


def project_item(event: Json) -> tuple[Any, ...]:
    return (event["id"], event["quantity"], event["lowStock"])


def project_movement(event: Json) -> tuple[Any, ...]:
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
        result: Json = await self.http.execute(request(name, **variables))
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
        return project_item(found)

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


def _subscriber(
    name: str, field: str, argument: str, value: str, *, fields: str, project: Callable[[Json], tuple[Any, ...]]
) -> Subscriber:
    """``field`` subscribed to with its one ``argument`` (a String for a category, an ID otherwise) set to ``value``."""
    argument_type = "String" if argument == "category" else "ID"
    query = f"subscription(${argument}: {argument_type}) {{ {field}({argument}: ${argument}) {fields} }}"
    return Subscriber(name, query, {argument: value}, project)


def item_changes(
    watch: Watch, fields: str = ITEM_FIELDS, project: Callable[[Json], tuple[Any, ...]] = project_item
) -> Subscriber:
    return _subscriber("item changes", "onItemChanged", "id", watch.item, fields=fields, project=project)


def item_movements(watch: Watch) -> Subscriber:
    return _subscriber(
        "item movements", "onStockMovement", "itemId", watch.item, fields=MOVEMENT_FIELDS, project=project_movement
    )


def location_movements(watch: Watch) -> Subscriber:
    return _subscriber(
        "location movements",
        "onStockMovement",
        "locationId",
        watch.location,
        fields=MOVEMENT_FIELDS,
        project=project_movement,
    )


def category_low_stock(watch: Watch) -> Subscriber:
    return _subscriber(
        "category low stock", "onLowStock", "category", watch.category, fields=ITEM_FIELDS, project=project_item
    )


@contextlib.asynccontextmanager
async def listening(server: ServerProcess, subscribers: list[Subscriber]) -> AsyncIterator[None]:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"x-api-key": server.api_key},
    )
    async with Client(transport=transport) as session:

        async def listen(subscriber: Subscriber) -> None:
            subscription = GraphQLRequest(subscriber.query, variable_values=subscriber.variables)
            async for result in session.subscribe(subscription):
                (event,) = result.values()
                subscriber.heard.append(subscriber.project(event))

        tasks = [asyncio.create_task(listen(subscriber)) for subscriber in subscribers]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def settled(subscribers: list[Subscriber], expected: Expected) -> None:
    """Until each subscriber heard as many events as expected (or the bound passed), then a quiet moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ARRIVAL_TIMEOUT_SECONDS
    while loop.time() < deadline and any(len(s.heard) < len(expected.get(s.name, [])) for s in subscribers):
        await asyncio.sleep(0.05)
    await quiet(subscribers)


async def quiet(subscribers: list[Subscriber]) -> None:
    counts: list[int] = []
    while counts != [len(s.heard) for s in subscribers]:
        counts = [len(s.heard) for s in subscribers]
        await asyncio.sleep(QUIET_SECONDS)


async def live(watch: Watch, subscribers: list[Subscriber]) -> None:
    """Subscriptions go live a moment after they are sent: move the watched item's stock in and out of low stock at
    the watched location (which every subscriber hears) until each has heard something, ending with it stocked."""
    low = True  # created with nothing
    for _ in range(ARRIVAL_TIMEOUT_SECONDS * 4):
        await watch.adjust(watch.item, STOCKED if low else -STOCKED)
        low = not low
        await asyncio.sleep(0.25)
        if not low and all(s.heard for s in subscribers):
            break
    await quiet(subscribers)
    assert all(s.heard for s in subscribers), [s.name for s in subscribers if not s.heard]
    for subscriber in subscribers:
        subscriber.heard.clear()
