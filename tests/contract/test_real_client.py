"""The server as a frontend meets it: started with ``python -m devserver`` on a free port, driven by a GraphQL client
library (gql) over HTTP and websockets, then stopped with Ctrl-C's signal, leaving nothing running."""

from __future__ import annotations

import asyncio
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from devserver.seed import CATALOGUE, STORE, STORE_STOCK
from tests.contract.examples import document
from tests.contract.server import ServerProcess

Json = dict[str, Any]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "local-data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(data_dir, "--seed").start()
    try:
        yield process
    finally:
        process.stop()


def _http(server: ServerProcess, key: str | None = None) -> Client:
    transport = HTTPXAsyncTransport(server.url, headers={"x-api-key": key or server.api_key}, timeout=30)
    return Client(transport=transport)


def _websocket(server: ServerProcess, key: str | None = None) -> Client:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"x-api-key": key or server.api_key},
    )
    return Client(transport=transport)


def _request(name: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document(name), variable_values=variables)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


async def _crud_pagination_and_an_error(server: ServerProcess) -> None:
    async with _http(server) as session:
        new = {
            "sku": "HND-WRENCH-10",
            "name": "Adjustable wrench",
            "category": "hand-tools",
            "price": 19.9,
            "quantity": 3,
        }
        created = (await session.execute(_request("create-item", input=new)))["createItem"]
        assert (created["quantity"], created["status"], created["version"]) == (3, "AVAILABLE", 1)

        fetched = (await session.execute(_request("get-item", id=created["id"], movementsLimit=5)))["getItem"]
        assert fetched["movements"]["items"][0]["reason"] == "RECEIVED"

        change = {"id": created["id"], "expectedVersion": 1, "price": 21.5, "description": "Chrome vanadium."}
        updated = (await session.execute(_request("update-item", input=change)))["updateItem"]
        assert (updated["price"], updated["version"]) == (21.5, 2)

        skus: list[str] = []
        token = None
        while True:
            page = (await session.execute(_request("list-items", limit=5, nextToken=token)))["listItems"]
            skus += [item["sku"] for item in page["items"]]
            token = page["nextToken"]
            if token is None:
                break
        assert skus == sorted([entry.sku for entry in CATALOGUE] + ["HND-WRENCH-10"])

        with pytest.raises(TransportQueryError) as refused:
            await session.execute(_request("create-item", input=new))
        (error,) = refused.value.errors or []
        assert error["errorType"] == "DuplicateSku"
        assert error["errorInfo"] == {"sku": "HND-WRENCH-10"}
        assert error["path"] == ["createItem"]

        deleted = (await session.execute(_request("delete-item", id=created["id"])))["deleteItem"]
        assert deleted["id"] == created["id"]
        assert (await session.execute(_request("get-item-by-sku", sku="HND-WRENCH-10")))["getItemBySku"] is None


async def _checkout_at_the_seeded_store(server: ServerProcess) -> None:
    """A storefront's v2 flow over HTTP: find the store, hold units there, sell them; a late release is refused."""
    store_code, _ = STORE
    async with _http(server) as session:
        locations = (await session.execute(_request("list-locations")))["listLocations"]
        assert [location["code"] for location in locations] == ["MAIN", store_code]
        store = locations[1]["id"]
        drill = (await session.execute(_request("get-item-by-sku", sku="PWR-DRILL-18V")))["getItemBySku"]
        at_store = dict(STORE_STOCK)["PWR-DRILL-18V"]

        hold = {"reservationId": "cart-1", "locationId": store, "lines": [{"itemId": drill["id"], "quantity": 2}]}
        reserved = (await session.execute(_request("reserve-stock", input=hold)))["reserveStock"]
        assert (reserved["status"], reserved["locationId"]) == ("ACTIVE", store)
        held = (await session.execute(_request("get-item", id=drill["id"], movementsLimit=1)))["getItem"]
        level = next(level for level in held["levels"] if level["locationId"] == store)
        assert (level["onHand"], level["reserved"], level["available"]) == (at_store, 2, at_store - 2)

        committed = (await session.execute(_request("commit-reservation", id="cart-1")))["commitReservation"]
        assert committed["status"] == "COMMITTED"
        assert [(m["delta"], m["locationQuantityAfter"], m["reference"]) for m in committed["movements"]] == [
            (-2, at_store - 2, "cart-1")
        ]
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(_request("release-reservation", id="cart-1"))
        (error,) = refused.value.errors or []
        assert (error["errorType"], error["errorInfo"]) == (
            "ReservationNotActive",
            {"id": "cart-1", "status": "COMMITTED"},
        )
        assert (await session.execute(_request("get-reservation", id="cart-1")))["getReservation"] == committed


async def _subscription_hears_adjust_stock(server: ServerProcess) -> None:
    async with _http(server) as http:
        hammer = (await http.execute(_request("get-item-by-sku", sku="HND-HAMMER-16")))["getItemBySku"]
        async with _websocket(server) as websocket:
            events = websocket.subscribe(_request("on-stock-movement", itemId=hammer["id"]))
            first_event = asyncio.ensure_future(anext(events))
            sent: list[Json] = []
            # The subscription goes live a moment after it is sent; an adjustment before that is simply not heard,
            # so keep adjusting (each with its own idempotency key) until one is.
            for attempt in range(100):
                movement = {"itemId": hammer["id"], "delta": 1, "reason": "RECEIVED", "idempotencyKey": f"ws-{attempt}"}
                sent.append((await http.execute(_request("adjust-stock", input=movement)))["adjustStock"])
                done, _ = await asyncio.wait({first_event}, timeout=0.2)
                if done:
                    break
            event = (await asyncio.wait_for(first_event, timeout=5))["onStockMovement"]
            await events.aclose()
    assert event in sent
    assert event["itemId"] == hammer["id"]


async def _invalid_api_key_is_refused(server: ServerProcess) -> None:
    with pytest.raises(TransportQueryError) as refused:
        async with _http(server, key="da2-notthekeynotthekeynotthe") as session:
            await session.execute(_request("get-item-by-sku", sku="HND-HAMMER-16"))
    assert refused.value.errors == [
        {"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}
    ]
    with pytest.raises(TransportError):  # the server closes the socket (4403) after connection_init
        async with _websocket(server, key="da2-notthekeynotthekeynotthe") as session:
            await anext(session.subscribe(_request("on-item-changed")))


def test_a_graphql_client_uses_the_server_over_http_and_websockets(server: ServerProcess) -> None:
    asyncio.run(_crud_pagination_and_an_error(server))
    asyncio.run(_checkout_at_the_seeded_store(server))
    asyncio.run(_subscription_hears_adjust_stock(server))
    asyncio.run(_invalid_api_key_is_refused(server))
    storage = server.dynamodb_local_endpoint
    assert _answers(storage)
    assert server.processes_left(), "the server and DynamoDB Local should be running until stopped"

    assert server.stop() == 0
    assert server.output[-1].strip() == "Stopped."
    assert server.processes_left() == []  # neither the server nor DynamoDB Local's java
    assert not _answers(storage)
    assert not _answers(server.url)


def test_data_survives_a_restart(data_dir: Path) -> None:
    first = ServerProcess(data_dir).start()
    try:

        async def create() -> tuple[Json, str]:
            async with _http(first) as session:
                for number in range(3):
                    new = {"sku": f"KEEP-{number}", "name": "Kept", "category": "kept", "price": 1.5}
                    await session.execute(_request("create-item", input=new))
                page = (await session.execute(_request("list-items", limit=2)))["listItems"]
                item = (await session.execute(_request("get-item-by-sku", sku="KEEP-0")))["getItemBySku"]
                return item, page["nextToken"]

        item, token = asyncio.run(create())
        key = first.api_key
    finally:
        assert first.stop(signal.SIGTERM) == 128 + signal.SIGTERM  # SIGTERM stops it as cleanly as Ctrl-C
    assert first.processes_left() == []

    second = ServerProcess(data_dir).start()
    try:
        assert second.api_key == key  # a frontend's stored key still works

        async def read() -> tuple[Json, list[str]]:
            async with _http(second) as session:
                kept = (await session.execute(_request("get-item-by-sku", sku="KEEP-0")))["getItemBySku"]
                rest = (await session.execute(_request("list-items", limit=2, nextToken=token)))["listItems"]
                return kept, [entry["sku"] for entry in rest["items"]]

        kept, rest = asyncio.run(read())
        assert kept == item
        assert rest == ["KEEP-2"]  # a nextToken from before the restart still pages on
    finally:
        assert second.stop() == 0
    assert second.processes_left() == []
