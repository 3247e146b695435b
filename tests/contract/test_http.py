"""The server's HTTP and websocket edge, in process: the API key, refusals before GraphQL runs, CORS, GraphiQL (the
query limits are in test_query_limits.py; test_real_client.py drives the same app as a user would, over the network).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from devserver.app import MAX_BODY_BYTES, create_app
from devserver.seed import CATALOGUE, STORE, STORE_STOCK, seed
from devserver.stream import TableStream
from inventory import operations
from inventory.service import InventoryService
from tests.contract.examples import document

KEY = "da2-testtesttesttesttesttest12"
LIST = document("list-items")
SMALL_QUERY = "query { listItems(limit: 1) { items { sku } } }"


@pytest.fixture
def client(service: InventoryService, stream: TableStream) -> Iterator[TestClient]:
    app = create_app(service, api_key=KEY, stream=stream)
    with TestClient(app, base_url="http://127.0.0.1:4000") as test_client:
        yield test_client


def _post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post("/graphql", json=body, headers={"x-api-key": KEY, **headers})


def _websocket(client: TestClient, **headers: str) -> WebSocketTestSession:
    # The test client sends its websockets to "testserver" on port 80, whatever base_url says: name a loopback host.
    headers = {"host": "localhost", **headers}
    return client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"], headers=headers)


def test_a_request_without_the_api_key_is_refused_like_appsync(client: TestClient) -> None:
    for headers in ({}, {"x-api-key": "da2-wrong"}):
        response = client.post("/graphql", json={"query": SMALL_QUERY}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "errors": [{"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}]
        }


def test_a_request_with_the_api_key_is_served(client: TestClient) -> None:
    response = _post(client, {"query": SMALL_QUERY})
    assert response.status_code == 200
    assert response.json() == {"data": {"listItems": {"items": []}}}


def test_without_auth_every_request_is_served(service: InventoryService) -> None:
    with TestClient(create_app(service, api_key=None), base_url="http://localhost:4000") as open_client:
        assert open_client.post("/graphql", json={"query": SMALL_QUERY}).json() == {
            "data": {"listItems": {"items": []}}
        }


def test_a_body_over_1_mb_is_refused_with_a_graphql_error(client: TestClient) -> None:
    padding = "x" * MAX_BODY_BYTES
    response = _post(client, {"query": SMALL_QUERY, "variables": {"padding": padding}})
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["errorType"] == "PayloadTooLargeException"
    assert "1 MB" in error["message"]


def test_a_body_just_under_1_mb_is_served(client: TestClient) -> None:
    variables = {"padding": ""}
    body = {"query": SMALL_QUERY, "variables": variables}
    variables["padding"] = "x" * (MAX_BODY_BYTES - len(json.dumps(body)))
    response = client.post(
        "/graphql", content=json.dumps(body), headers={"x-api-key": KEY, "content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"listItems": {"items": []}}}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"query": ', "application/json"),
        ("not json at all", "application/json"),
        ('{"variables": {}}', "application/json"),
        ('{"query": 42}', "application/json"),
        ('{"query": "{ listItems { items { id } } }", "variables": [1]}', "application/json"),
        ("query=%7B%7D", "application/x-www-form-urlencoded"),
        # Valid JSON that is not an object, and bytes that are not UTF-8: Strawberry alone answered a plain-text 500.
        ("null", "application/json"),
        ('"s"', "application/json"),
        ("42", "application/json"),
        ("true", "application/json"),
        ("[]", "application/json"),
        ('[{"query": "{ __typename }"}]', "application/json"),
        (b'{"query": "{ __typename }", "x": "\xff"}', "application/json"),
        ('{"query": "{ __typename }"}'.encode("utf-16"), "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ('{"query": "{ __typename }", "x": NaN}', "application/json"),
    ],
)
def test_a_malformed_request_gets_a_graphql_error_not_a_crash(
    client: TestClient, body: str | bytes, content_type: str
) -> None:
    response = client.post("/graphql", content=body, headers={"x-api-key": KEY, "content-type": content_type})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["errorType"] == "BadRequestException"
    assert error["message"]


def test_a_body_that_is_not_an_object_is_told_what_to_send(client: TestClient) -> None:
    response = client.post("/graphql", content="null", headers={"x-api-key": KEY, "content-type": "application/json"})
    (error,) = response.json()["errors"]
    assert error["message"] == 'The request body must be a JSON object such as {"query": "..."}, not null.'


def test_a_mutation_in_an_undecodable_body_writes_nothing(client: TestClient, service: InventoryService) -> None:
    create = 'mutation { createItem(input: {sku: \\"U-1\\", name: \\"n\\", category: \\"c\\", price: 1}) { id } }'
    body = b'{"query": "' + create.encode() + b'", "note": "\xff"}'
    assert operations.get_item_by_sku(service, {"sku": "U-1"}) is None
    response = client.post("/graphql", content=body, headers={"x-api-key": KEY, "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "BadRequestException"
    assert operations.get_item_by_sku(service, {"sku": "U-1"}) is None
    # The same mutation in clean UTF-8 does write: the refusal above is about the bytes, not the operation.
    clean = client.post(
        "/graphql", content=body.replace(b"\xff", b"ok"), headers={"x-api-key": KEY, "content-type": "application/json"}
    )
    assert "errors" not in clean.json()
    assert operations.get_item_by_sku(service, {"sku": "U-1"}) is not None


def test_malformed_graphql_gets_a_graphql_error(client: TestClient) -> None:
    response = _post(client, {"query": "query { listItems( }"})
    (error,) = response.json()["errors"]
    assert error["message"].startswith("Syntax Error")
    assert error["locations"] == [{"line": 1, "column": 20, "sourceName": None}]
    assert error["path"] is None


def test_operations_are_taken_by_post_only_like_appsync(client: TestClient) -> None:
    response = client.get(
        "/graphql", params={"query": SMALL_QUERY}, headers={"x-api-key": KEY, "accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "BadRequestException"


def test_browsers_on_localhost_may_call_the_api(client: TestClient) -> None:
    for origin in ("http://localhost:3000", "http://127.0.0.1:5173", "https://localhost"):
        preflight = client.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-api-key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
        refused = client.post("/graphql", json={"query": SMALL_QUERY}, headers={"origin": origin})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == origin  # so the page can read the error


def test_other_origins_get_no_cors_grant(client: TestClient) -> None:
    preflight = client.options(
        "/graphql", headers={"origin": "https://example.com", "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_graphiql_is_served_with_the_api_key_filled_in(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    key = json.dumps({"x-api-key": KEY})
    assert f"const defaultHeaders = {key};" in page.text
    assert f"wsConnectionParams: {key}," in page.text
    assert "query ListItems" in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/graphql"


FOREIGN_HOSTS = ["attacker.example", "attacker.example:4000", "localhost:4001", "127.0.0.1.attacker.example:4000"]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_graphiql_and_its_api_key_are_not_served_to_another_host(client: TestClient, host: str) -> None:
    # DNS rebinding: another site's name resolving to 127.0.0.1 would make the page (and the key in it) same-origin.
    page = client.get("/graphql", headers={"accept": "text/html", "host": host})
    assert page.status_code == 403
    assert KEY not in page.text
    (error,) = page.json()["errors"]
    assert error["errorType"] == "ForbiddenException"
    assert host in error["message"]
    assert client.get("/", headers={"host": host}, follow_redirects=False).status_code == 403


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_request_to_another_host_is_refused_even_with_the_api_key(client: TestClient, host: str) -> None:
    response = _post(client, {"query": SMALL_QUERY}, host=host)
    assert response.status_code == 403
    assert response.json()["errors"][0]["errorType"] == "ForbiddenException"


@pytest.mark.parametrize("host", ["localhost:4000", "127.0.0.1:4000", "[::1]:4000", "localhost", "LOCALHOST:4000"])
def test_the_loopback_names_with_the_server_port_or_none_are_served(client: TestClient, host: str) -> None:
    assert _post(client, {"query": SMALL_QUERY}, host=host).json() == {"data": {"listItems": {"items": []}}}
    assert client.get("/graphql", headers={"accept": "text/html", "host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["https://attacker.example", "http://localhost.attacker.example", "null"])
def test_a_post_from_another_origin_is_refused_and_writes_nothing(
    client: TestClient, service: InventoryService, origin: str
) -> None:
    create = {
        "query": document("create-item"),
        "variables": {"input": {"sku": "O-1", "name": "n", "category": "c", "price": 1}},
    }
    response = _post(client, create, origin=origin)
    assert response.status_code == 403
    assert response.json()["errors"][0]["errorType"] == "ForbiddenException"
    assert operations.get_item_by_sku(service, {"sku": "O-1"}) is None
    assert "errors" not in _post(client, create, origin="http://localhost:5173").json()  # a local page may
    assert operations.get_item_by_sku(service, {"sku": "O-1"}) is not None


def test_a_websocket_to_another_host_is_refused(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect),
        _websocket(client, host="attacker.example:4000") as socket,
    ):
        socket.send_json({"type": "connection_init", "payload": {"x-api-key": KEY}})
        socket.receive_json()


def _subscribe_message() -> dict[str, Any]:
    query = "subscription { onStockMovement { id } }"
    return {"type": "subscribe", "id": "1", "payload": {"query": query}}


@pytest.mark.parametrize(
    ("headers", "payload"),
    [
        ({}, {"x-api-key": KEY}),
        ({}, {"headers": {"x-api-key": KEY}}),
        ({"x-api-key": KEY}, {}),
    ],
)
def test_a_websocket_with_the_api_key_is_acknowledged(
    client: TestClient, headers: dict[str, str], payload: Any
) -> None:
    with _websocket(client, **headers) as socket:
        socket.send_json({"type": "connection_init", "payload": payload})
        assert socket.receive_json() == {"type": "connection_ack"}


def test_a_websocket_without_the_api_key_is_closed(client: TestClient) -> None:
    with _websocket(client) as socket:
        socket.send_json({"type": "connection_init", "payload": {"x-api-key": "da2-wrong"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 4403


@pytest.mark.parametrize("message", ["null", "42", '"s"', "[]", "[" * 100_000, "{"])
def test_a_websocket_message_that_is_not_a_json_object_closes_it_as_the_protocol_says(
    client: TestClient, message: str
) -> None:
    with _websocket(client) as socket:
        socket.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 4400


def test_a_websocket_from_another_origin_is_refused(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect),
        _websocket(client, origin="https://example.com") as socket,
    ):
        socket.send_json({"type": "connection_init", "payload": {"x-api-key": KEY}})
        socket.receive_json()


def test_a_subscription_hears_a_change_made_over_http(client: TestClient, service: InventoryService) -> None:
    item = operations.create_item(service, {"input": {"sku": "S-1", "name": "n", "category": "c", "price": 1}})
    subscriptions = client.app.state.subscriptions  # type: ignore[attr-defined]
    with _websocket(client) as socket:
        socket.send_json({"type": "connection_init", "payload": {"x-api-key": KEY}})
        assert socket.receive_json() == {"type": "connection_ack"}
        subscribe = {"query": document("on-stock-movement"), "variables": {"itemId": item["id"]}}
        socket.send_json({"type": "subscribe", "id": "1", "payload": subscribe})
        for _ in range(500):
            if subscriptions.listening("onStockMovement"):
                break
            time.sleep(0.01)
        movement = {"itemId": item["id"], "delta": 2, "reason": "RECEIVED", "idempotencyKey": "k-1"}
        sent = _post(client, {"query": document("adjust-stock"), "variables": {"input": movement}}).json()
        message = socket.receive_json()
    assert message == {"id": "1", "type": "next", "payload": {"data": {"onStockMovement": sent["data"]["adjustStock"]}}}


def test_seeding_loads_the_catalogue_once(service: InventoryService) -> None:
    assert seed(service) == len(CATALOGUE)
    assert seed(service) == 0
    listed = operations.list_items(service, {"limit": 100})
    assert sorted(item["sku"] for item in listed["items"]) == sorted(entry.sku for entry in CATALOGUE)
    statuses = {item["status"] for item in listed["items"]}
    assert statuses == {"AVAILABLE", "OUT_OF_STOCK", "DISCONTINUED"}
    assert any(item["lowStock"] for item in listed["items"])
    assert len({item["category"] for item in listed["items"]}) >= 3
    drill = operations.get_item_by_sku(service, {"sku": "PWR-DRILL-18V"})
    assert drill is not None
    history = operations.item_movements(service, drill, {"limit": 10})["items"]
    assert [movement["reason"] for movement in history] == [
        "TRANSFER_IN",
        "TRANSFER_OUT",
        "SOLD",
        "RECEIVED",
        "RECEIVED",
    ]


def test_seeding_puts_some_stock_in_a_second_location(service: InventoryService) -> None:
    seed(service)
    (main, store) = operations.list_locations(service, {})
    assert (main["code"], store["code"]) == ("MAIN", STORE[0])
    for sku, quantity in STORE_STOCK:
        item = operations.get_item_by_sku(service, {"sku": sku})
        assert item is not None
        at_main = item["onHand"] - quantity
        assert item["levels"] == [
            {"locationId": "MAIN", "locationCode": "MAIN", "onHand": at_main, "reserved": 0, "available": at_main},
            {
                "locationId": store["id"],
                "locationCode": STORE[0],
                "onHand": quantity,
                "reserved": 0,
                "available": quantity,
            },
        ]


def test_seeding_a_table_emptied_by_hand_uses_the_store_it_has(service: InventoryService) -> None:
    """Locations are never deleted: after every item is, the seed finds the store again instead of failing."""
    seed(service)
    for item in operations.list_items(service, {"limit": 100})["items"]:
        operations.delete_item(service, {"id": item["id"]})
    locations = operations.list_locations(service, {})

    assert seed(service) == len(CATALOGUE)
    assert operations.list_locations(service, {}) == locations
    drill = operations.get_item_by_sku(service, {"sku": "PWR-DRILL-18V"})
    assert drill is not None
    assert [level["locationCode"] for level in drill["levels"]] == ["MAIN", STORE[0]]


def test_seeding_leaves_a_table_with_items_alone(service: InventoryService) -> None:
    seed(service)
    hose = operations.get_item_by_sku(service, {"sku": "GRD-HOSE-25"})
    assert hose is not None
    operations.delete_item(service, {"id": hose["id"]})
    before = operations.list_items(service, {"limit": 100})

    assert seed(service) == 0  # a seed item deleted by hand stays deleted
    assert operations.list_items(service, {"limit": 100}) == before
    assert operations.get_item_by_sku(service, {"sku": "GRD-HOSE-25"}) is None


def test_seeding_loads_nothing_beside_items_of_ones_own(service: InventoryService) -> None:
    own = {"sku": "MINE-1", "name": "Mine", "category": "mine", "price": 1.0}
    operations.create_item(service, {"input": own})
    assert seed(service) == 0
    assert [item["sku"] for item in operations.list_items(service, {"limit": 100})["items"]] == ["MINE-1"]
