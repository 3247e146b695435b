"""AppSync's real-time protocol on the local server (devserver/realtime.py), as real clients speak it: the
``websockets`` library following AWS's guide message by message, and AWS Amplify's own GraphQL client in Node, given
the TLS endpoint of ``python -m devserver`` as an app is (Amplify opens ``wss://`` only).

The server runs in this process (uvicorn on a free port) with its stream reader, so that a sale made over HTTP is
heard as on AppSync: from the table's stream, through the publish mutation. A test waits for what the stream has
published (a spy on the server's fan-out), never for a fixed time. Amplify's test starts the server as a user does
(``python -m devserver --seed``) and waits for Amplify's own acknowledgement."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection

from devserver.app import create_app
from devserver.dynamodb_local import free_port
from devserver.stream import TableStream
from inventory.service import InventoryService
from tests.contract.http_client import post
from tests.contract.server import ServerProcess

Json = dict[str, Any]

KEY = "da2-realtime-test-key"
SCRIPT = Path(__file__).resolve().parent / "amplify_realtime.mjs"
WAIT = 30.0  # a bound on waiting for a message, never an assertion about time
MOVEMENT_FIELDS = "id itemId locationId delta quantityAfter reason reference createdAt"
SEEDED_SKU = "GRD-HOSE-25"  # devserver/seed.py: 30 in stock
ON_STOCK_MOVEMENT = f"subscription S($itemId: ID) {{ onStockMovement(itemId: $itemId) {{ {MOVEMENT_FIELDS} }} }}"


@dataclass
class LiveServer:
    app: Starlette
    service: InventoryService
    loop: asyncio.AbstractEventLoop
    port: int
    published: list[Json]  # every payload the server's stream published, in order

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def realtime_url(self, header: Json | None = None, *, host: str | None = None) -> str:
        header = {"host": host or f"127.0.0.1:{self.port}", "x-api-key": KEY} if header is None else header
        return f"ws://127.0.0.1:{self.port}/graphql/realtime?header={_b64(header)}&payload={_b64({})}"

    def create_item(self, name: str) -> str:
        """A new item with 10 units, once the stream has published its initial stock (so that no subscriber started
        afterwards hears it): its id."""
        query = "mutation($input: CreateItemInput!) { createItem(input: $input) { id } }"
        new = {"sku": f"RT-{uuid.uuid4().hex[:8].upper()}", "name": name, "category": "tools", "price": 9.5}
        created: str = self.post(query, {"input": {**new, "quantity": 10}})["data"]["createItem"]["id"]
        deadline = time.monotonic() + WAIT
        while not any(response.get("itemId") == created for response in self.published):  # its RECEIVED movement
            assert time.monotonic() < deadline, "the stream never published the new item's initial stock"
            time.sleep(0.02)
        return created

    def sell(self, item_id: str, quantity: int) -> Json:
        """A sale as a client makes it (fulfillOrder over HTTP): the movement it made."""
        return _sell(self.graphql_url, KEY, item_id, quantity)

    def post(self, query: str, variables: Json) -> Json:
        return post(self.graphql_url, KEY, query, variables)

    def listening(self) -> int:
        count: int = self.app.state.subscriptions.listening("onStockMovement")
        return count

    def wait_for_subscribers(self, field: str, count: int) -> None:
        """Until ``count`` subscribers listen on ``field`` (graphql-transport-ws acknowledges no subscription)."""
        deadline = time.monotonic() + WAIT
        while self.app.state.subscriptions.listening(field) < count:
            assert time.monotonic() < deadline, f"{count} subscribers never listened on {field}"
            time.sleep(0.02)


def _sell(url: str, key: str, item_id: str, quantity: int, context: ssl.SSLContext | None = None) -> Json:
    """fulfillOrder of ``quantity`` units of the item: the movement it made."""
    lines = [{"itemId": item_id, "quantity": quantity}]
    query = "mutation($input: FulfillOrderInput!) { fulfillOrder(input: $input) { movements { %s } } }"
    variables = {"input": {"orderId": f"order-{uuid.uuid4().hex[:8]}", "lines": lines}}
    answer = post(url, key, query % MOVEMENT_FIELDS, variables, context)
    movement: Json = answer["data"]["fulfillOrder"]["movements"][0]
    return movement


def _b64(value: Json) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@pytest.fixture
def live(service: InventoryService, stream: TableStream) -> Iterator[LiveServer]:
    app = create_app(service, api_key=KEY, stream=stream)
    published: list[Json] = []
    fan_out = app.state.subscriptions.publish

    def spy(fields: Any, response: Json) -> None:
        published.append(response)
        fan_out(fields, response)

    app.state.subscriptions.publish = spy
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(sockets=[listener]),), daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield LiveServer(app, service, loop, listener.getsockname()[1], published)
    finally:
        server.should_exit = True
        thread.join(WAIT)
        loop.close()
        listener.close()


@pytest.fixture
def item_id(live: LiveServer) -> str:
    return live.create_item("Torch")


async def _receive(connection: ClientConnection) -> Json:
    message: Json = json.loads(await asyncio.wait_for(connection.recv(), WAIT))
    return message


async def _connect(live: LiveServer, header: Json | None = None) -> ClientConnection:
    return await websockets.connect(live.realtime_url(header), subprotocols=[websockets.Subprotocol("graphql-ws")])


def _start(operation_id: str, query: str, variables: Json | None = None, key: str = KEY) -> str:
    payload = {
        "data": json.dumps({"query": query, "variables": variables or {}}),
        "extensions": {"authorization": {"host": "127.0.0.1", "x-api-key": key}},
    }
    return json.dumps({"id": operation_id, "type": "start", "payload": payload})


async def _initialized(live: LiveServer) -> ClientConnection:
    connection = await _connect(live)
    await connection.send(json.dumps({"type": "connection_init"}))
    assert await _receive(connection) == {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}
    assert await _receive(connection) == {"type": "ka"}
    return connection


def test_a_connection_is_acknowledged_with_the_keep_alive_timeout_then_kept_alive(live: LiveServer) -> None:
    async def scenario() -> None:
        connection = await _initialized(live)  # asserts connection_ack, then the first ka
        assert connection.subprotocol == "graphql-ws"
        await connection.close()

    asyncio.run(scenario())


def test_a_subscriber_hears_a_sale_of_its_item_only_until_it_stops(live: LiveServer, item_id: str) -> None:
    other = live.create_item("Rope")

    async def scenario() -> None:
        connection = await _initialized(live)
        await connection.send(_start("sub-1", ON_STOCK_MOVEMENT, {"itemId": item_id}))
        assert await _receive(connection) == {"type": "start_ack", "id": "sub-1"}
        assert live.listening() == 1  # acknowledged: it hears every event from now on
        await asyncio.to_thread(live.sell, other, 1)  # another item: not heard
        sale = await asyncio.to_thread(live.sell, item_id, 2)
        event = await _receive(connection)
        assert event == {"type": "data", "id": "sub-1", "payload": {"data": {"onStockMovement": sale}}}
        assert (sale["delta"], sale["quantityAfter"], sale["reason"]) == (-2, 8, "SOLD")
        await connection.send(json.dumps({"type": "stop", "id": "sub-1"}))
        assert await _receive(connection) == {"type": "complete", "id": "sub-1"}
        assert live.listening() == 0
        await connection.close()

    asyncio.run(scenario())


def test_the_same_event_reaches_graphql_transport_ws_subscribers_alike(live: LiveServer, item_id: str) -> None:
    async def scenario() -> None:
        realtime = await _initialized(live)
        await realtime.send(_start("rt", ON_STOCK_MOVEMENT, {"itemId": item_id}))
        assert (await _receive(realtime))["type"] == "start_ack"
        assert live.listening() == 1
        transport_ws = await websockets.connect(
            f"ws://127.0.0.1:{live.port}/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        )
        await transport_ws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": KEY}}))
        assert (await _receive(transport_ws))["type"] == "connection_ack"
        subscribe = {"query": ON_STOCK_MOVEMENT, "variables": {"itemId": item_id}}
        await transport_ws.send(json.dumps({"id": "tws", "type": "subscribe", "payload": subscribe}))
        await asyncio.to_thread(live.wait_for_subscribers, "onStockMovement", 2)
        await asyncio.to_thread(live.sell, item_id, 1)
        heard_realtime, heard_transport_ws = await _receive(realtime), await _receive(transport_ws)
        assert heard_realtime["payload"] == heard_transport_ws["payload"]
        await realtime.close()
        await transport_ws.close()

    asyncio.run(scenario())


def test_credentials_in_the_amplify_header_subprotocol_are_accepted(live: LiveServer) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"x-api-key": KEY}).encode()).decode().rstrip("=")
    offered = [websockets.Subprotocol("graphql-ws"), websockets.Subprotocol(f"header-{header}")]

    async def scenario() -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{live.port}/graphql/realtime", subprotocols=offered
        ) as connection:
            await connection.send(json.dumps({"type": "connection_init"}))
            assert (await _receive(connection))["type"] == "connection_ack"

    asyncio.run(scenario())


@pytest.mark.parametrize("header", [{"x-api-key": "da2-wrong"}, {}], ids=["wrong key", "no key"])
def test_a_connection_with_a_bad_api_key_gets_appsync_connection_error_and_is_closed(
    live: LiveServer, header: Json
) -> None:
    async def scenario() -> None:
        connection = await _connect(live, header)
        await connection.send(json.dumps({"type": "connection_init"}))
        refused = await _receive(connection)
        error = {"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}
        assert refused == {"type": "connection_error", "payload": {"errors": [{**error, "errorCode": 401}]}}
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(connection.recv(), WAIT)

    asyncio.run(scenario())


def test_a_start_with_a_bad_api_key_is_refused_and_nothing_is_delivered(live: LiveServer, item_id: str) -> None:
    async def scenario() -> None:
        connection = await _initialized(live)
        await connection.send(_start("bad", ON_STOCK_MOVEMENT, {"itemId": item_id}, key="da2-wrong"))
        refused = await _receive(connection)
        assert refused["type"] == "error" and refused["id"] == "bad"
        assert refused["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
        assert live.listening() == 0
        await connection.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "subscribe", "id": "x"}, "subscribe not supported through the realtime channel"),
        ({"id": "x"}, "unknown not supported through the realtime channel"),
    ],
    ids=["unknown type", "no type"],
)
def test_an_unknown_message_gets_appsync_unsupported_operation(live: LiveServer, message: Json, expected: str) -> None:
    async def scenario() -> None:
        connection = await _initialized(live)
        await connection.send(json.dumps(message))
        error = {"errorType": "UnsupportedOperation", "message": expected}
        assert await _receive(connection) == {"type": "error", "payload": {"errors": [error]}, "id": "x"}
        await connection.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("query", "error_type"),
    [
        ("subscription { onStockMovement { nope } }", None),  # validation: the schema's own error
        ("subscription { onStockMovement {", None),  # syntax
        ("query { listItems { items { id } } }", "UnsupportedOperation"),  # only subscriptions go this way
    ],
    ids=["unknown field", "syntax error", "a query"],
)
def test_an_invalid_start_gets_an_error_and_no_subscription(
    live: LiveServer, query: str, error_type: str | None
) -> None:
    async def scenario() -> None:
        connection = await _initialized(live)
        await connection.send(_start("bad", query))
        refused = await _receive(connection)
        assert refused["type"] == "error" and refused["id"] == "bad"
        [error] = refused["payload"]["errors"]
        assert error["message"] and error.get("errorType") == error_type
        assert live.listening() == 0
        await connection.close()

    asyncio.run(scenario())


def test_a_websocket_naming_another_host_or_origin_is_refused(live: LiveServer) -> None:
    async def refused(url: str, **headers: str) -> int:
        with pytest.raises(websockets.InvalidStatus) as refusal:
            await websockets.connect(
                url,
                subprotocols=[websockets.Subprotocol("graphql-ws")],
                additional_headers=headers,
                host="127.0.0.1",  # where the name resolves, as after DNS rebinding
                port=live.port,
            )
        status: int = refusal.value.response.status_code
        return status

    assert asyncio.run(refused(live.realtime_url(), Origin="https://evil.example")) == 403
    assert asyncio.run(refused(live.realtime_url().replace("127.0.0.1", "evil.example"))) == 403


def test_python_m_devserver_prints_both_websocket_urls_and_serves_appsync_at_the_real_time_one(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", "--memory") as server:
        assert server.banner("Websocket").split()[0] == server.ws_url
        realtime = server.banner("Real-time").split()[0]
        assert realtime == f"{server.ws_url}/realtime"

        async def acknowledged() -> Json:
            header = _b64({"host": server.url.split("/")[2], "x-api-key": server.api_key})
            url = f"{realtime}?header={header}&payload={_b64({})}"
            async with websockets.connect(url, subprotocols=[websockets.Subprotocol("graphql-ws")]) as connection:
                await connection.send(json.dumps({"type": "connection_init"}))
                return await _receive(connection)

        assert asyncio.run(acknowledged())["type"] == "connection_ack"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node 20+ runs AWS Amplify's client (make setup)")
def test_aws_amplify_graphql_client_hears_a_sale_at_the_tls_endpoint_unchanged(tmp_path: Path) -> None:
    # As `make run` serves it (the seed is in before the stream is read, so the subscriber hears the sale alone).
    with ServerProcess(tmp_path / "data", "--memory", "--seed", tls_port=free_port()) as server:
        trusted = ssl.create_default_context(cafile=server.ca_certificate)
        query = "query($sku: String!) { getItemBySku(sku: $sku) { id } }"
        item = post(server.tls_url, server.api_key, query, {"sku": SEEDED_SKU}, trusted)["data"]["getItemBySku"]
        item_id: str = item["id"]
        # the endpoint an app is given, its CA trusted as the banner says: no NODE_TLS_REJECT_UNAUTHORIZED, no shim
        command = ["node", "--experimental-websocket", str(SCRIPT), server.tls_url, server.api_key, item_id]
        environment = {**os.environ, "NODE_EXTRA_CA_CERTS": str(server.ca_certificate)}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        steps: queue.Queue[Json] = queue.Queue()
        threading.Thread(target=_read_steps, args=(process, steps), daemon=True).start()
        try:
            assert steps.get(timeout=WAIT) == {"step": "acknowledged"}  # Amplify's wss:// to /graphql/realtime
            sale = _sell(server.tls_url, server.api_key, item_id, 3, trusted)  # heard from the table's stream
            assert steps.get(timeout=WAIT) == {"step": "data", "data": {"onStockMovement": sale}}
            assert process.wait(WAIT) == 0
        finally:
            process.kill()
            process.wait()
            assert process.stderr is not None
            process.stderr.close()


def _read_steps(process: subprocess.Popen[str], steps: queue.Queue[Json]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        steps.put(json.loads(line))
