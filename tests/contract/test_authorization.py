"""The local server's access rule, as AppSync applies schema.graphql's directives: with ``--auth cognito`` signed-in
users read, the writers group writes, the API key reads and writes or only reads; a bad token gets HTTP 401. Driven
through the real ASGI app (HTTP and websockets) and, once, through ``python -m devserver`` as a user starts it.
AWS IAM callers (SigV4) are not modelled locally; the deployed rule per stack configuration is tested on the
rendered schema (tests/infra/test_appsync_schema.py), since AppSync, not the Lambda functions, enforces it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from graphql import parse
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from strawberry.http import process_result

from devserver import user_pool
from devserver.app import create_app
from devserver.authorization import DEFAULT_MODE, Access, Caller, FieldRules, Mode
from devserver.cli import main
from devserver.context import Context
from devserver.schema import schema
from devserver.settings import FILE_NAME, local_secrets
from devserver.stream import TableStream
from devserver.subscriptions import Subscriptions
from inventory import operations
from inventory.service import InventoryService
from tests.contract.examples import document, examples
from tests.contract.server import ServerProcess

KEY = "da2-testtesttesttesttesttest12"
SECRET = "local-user-pool-secret-for-the-tests-only"
WRITERS = "inventory-writers"
NEW_ITEM = {"input": {"sku": "AUTH-1", "name": "Wrench", "category": "tools", "price": 5}}
LIST = "query { listItems(limit: 100) { items { sku quantity } } }"


def _token(*groups: str, secret: str = SECRET, **options: Any) -> str:
    return user_pool.mint(secret, username="alice", groups=groups, **options)


def _app(
    service: InventoryService, *, api_key_writes: bool = True, cognito: bool = True, stream: TableStream | None = None
) -> TestClient:
    secret = SECRET if cognito else None
    app = create_app(service, api_key=KEY, user_pool_secret=secret, api_key_writes=api_key_writes, stream=stream)
    return TestClient(app, base_url="http://127.0.0.1:4000")


@pytest.fixture
def client(service: InventoryService, stream: TableStream) -> Iterator[TestClient]:
    with _app(service, stream=stream) as test_client:
        yield test_client


def _post(client: TestClient, query: str, variables: Any = None, **headers: str) -> Any:
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def _websocket(client: TestClient) -> Any:
    # The test client sends its websockets to "testserver" whatever base_url says: name a loopback host.
    return client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"], headers={"host": "localhost"})


def _listed(client: TestClient) -> Any:
    return _post(client, LIST, authorization=_token()).json()["data"]["listItems"]["items"]


def _refusal(field: str, type_name: str, line: int = 2, column: int = 3) -> dict[str, Any]:
    """AppSync's error for a field the caller may not access."""
    return {
        "path": [field],
        "data": None,
        "errorType": "Unauthorized",
        "errorInfo": None,
        "locations": [{"line": line, "column": column, "sourceName": None}],
        "message": f"Not Authorized to access {field} on type {type_name}",
    }


def test_a_signed_in_user_without_groups_can_read(client: TestClient, service: InventoryService) -> None:
    operations.create_item(service, NEW_ITEM)

    response = _post(client, document("list-items"), {"limit": 5}, authorization=_token())

    assert response.status_code == 200
    assert "errors" not in response.json()
    assert [item["sku"] for item in response.json()["data"]["listItems"]["items"]] == ["AUTH-1"]


def test_a_signed_in_user_outside_the_writers_group_cannot_mutate_and_nothing_is_written(client: TestClient) -> None:
    before = _listed(client)

    response = _post(client, document("create-item"), NEW_ITEM, authorization=_token("readers"))

    assert response.status_code == 200
    # createItem is non-null (Item!): its null reaches data, as with every error of a non-null field.
    assert response.json() == {"data": None, "errors": [_refusal("createItem", "Mutation", line=5)]}
    assert _listed(client) == before == []


def test_a_refused_nullable_mutation_answers_null_in_its_place_and_changes_nothing(
    client: TestClient, service: InventoryService
) -> None:
    item = operations.create_item(service, NEW_ITEM)
    query = "mutation($id: ID!) {\n  deleteItem(id: $id) { id }\n}"

    response = _post(client, query, {"id": item["id"]}, authorization=_token())

    assert response.json() == {"data": {"deleteItem": None}, "errors": [_refusal("deleteItem", "Mutation")]}
    assert [listed["sku"] for listed in _listed(client)] == ["AUTH-1"]


def test_a_member_of_the_writers_group_can_mutate(client: TestClient) -> None:
    response = _post(client, document("create-item"), NEW_ITEM, authorization=_token("staff", WRITERS))

    assert "errors" not in response.json()
    assert response.json()["data"]["createItem"]["sku"] == "AUTH-1"
    assert _listed(client) == [{"sku": "AUTH-1", "quantity": 0}]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (_token(WRITERS, now=time.time() - 7200), "Token has expired."),
        (_token(WRITERS, secret="another-secret-another-secret-another"), "Valid authorization header not provided."),
        ("Bearer " + _token(WRITERS), "Valid authorization header not provided."),
        ("not-a-token", "Valid authorization header not provided."),
        (jwt.encode({"sub": "s", "username": "u", "exp": 2**40, "iat": 0}, None, algorithm="none"), None),
    ],
    ids=["expired", "forged", "bearer", "garbage", "unsigned"],
)
def test_a_token_the_server_did_not_sign_or_that_expired_gets_401_like_appsync(
    client: TestClient, token: str, message: str | None
) -> None:
    for operation, variables in ((LIST, {}), (document("create-item"), NEW_ITEM)):
        response = _post(client, operation, variables, authorization=token, **{"x-api-key": KEY})

        assert response.status_code == 401
        (error,) = response.json()["errors"]
        assert error["errorType"] == "UnauthorizedException"
        assert error["message"] == (message or "Valid authorization header not provided.")
    assert _listed(client) == []


def test_the_api_key_still_works_beside_tokens(client: TestClient) -> None:
    assert _post(client, document("create-item"), NEW_ITEM, **{"x-api-key": KEY}).json()["data"]["createItem"]
    assert _post(client, LIST, **{"x-api-key": "da2-wrong"}).status_code == 401


def test_a_read_only_api_key_reads_but_cannot_mutate(service: InventoryService) -> None:
    with _app(service, api_key_writes=False) as client:
        headers = {"x-api-key": KEY}
        before = _post(client, LIST, **headers).json()

        refused = _post(client, document("create-item"), NEW_ITEM, **headers).json()
        written = _post(client, document("create-item"), NEW_ITEM, authorization=_token(WRITERS)).json()

    assert before == {"data": {"listItems": {"items": []}}}
    assert refused == {"data": None, "errors": [_refusal("createItem", "Mutation", line=5)]}
    assert written["data"]["createItem"]["sku"] == "AUTH-1"  # the writers group still writes


def test_without_cognito_auth_a_token_is_no_credential(service: InventoryService) -> None:
    with _app(service, cognito=False) as client:
        assert _post(client, LIST, authorization=_token(WRITERS)).status_code == 401
        assert _post(client, LIST, authorization=_token(WRITERS), **{"x-api-key": KEY}).status_code == 200


def test_a_websocket_takes_the_token_in_its_connection_parameters(
    client: TestClient, service: InventoryService
) -> None:
    item = operations.create_item(service, NEW_ITEM)
    subscriptions = client.app.state.subscriptions  # type: ignore[attr-defined]
    with _websocket(client) as socket:
        socket.send_json({"type": "connection_init", "payload": {"Authorization": _token()}})
        assert socket.receive_json() == {"type": "connection_ack"}
        subscribe = {"query": document("on-stock-movement"), "variables": {"itemId": item["id"]}}
        socket.send_json({"type": "subscribe", "id": "1", "payload": subscribe})
        for _ in range(500):
            if subscriptions.listening("onStockMovement"):
                break
            time.sleep(0.01)
        movement = {"itemId": item["id"], "delta": 2, "reason": "RECEIVED", "idempotencyKey": "k-1"}
        variables = {"input": movement}
        sent = _post(client, document("adjust-stock"), variables, authorization=_token(WRITERS)).json()
        message = socket.receive_json()
    assert message == {"id": "1", "type": "next", "payload": {"data": {"onStockMovement": sent["data"]["adjustStock"]}}}


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": _token(WRITERS, now=time.time() - 7200)},
        {"headers": {"Authorization": _token(secret="another-secret-another-secret-another")}},
    ],
    ids=["expired", "forged"],
)
def test_a_websocket_with_a_bad_token_is_closed(client: TestClient, payload: dict[str, Any]) -> None:
    with _websocket(client) as socket:
        socket.send_json({"type": "connection_init", "payload": {**payload, "x-api-key": KEY}})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 4403


def test_a_reader_on_a_websocket_cannot_mutate_over_it(client: TestClient) -> None:
    with _websocket(client) as socket:
        socket.send_json({"type": "connection_init", "payload": {"Authorization": _token()}})
        assert socket.receive_json() == {"type": "connection_ack"}
        mutation = {"query": document("create-item"), "variables": NEW_ITEM}
        socket.send_json({"type": "subscribe", "id": "1", "payload": mutation})
        message = socket.receive_json()
    assert message["payload"]["errors"][0]["errorType"] == "Unauthorized"
    assert _listed(client) == []


def test_a_subscription_the_caller_may_not_access_is_refused_before_it_starts(service: InventoryService) -> None:
    # schema.graphql lets every caller subscribe, so the rule is narrowed here to prove the check runs at start.
    rules = FieldRules(parse("type Subscription @aws_iam { onStockMovement(itemId: ID): Int }"))
    subscriptions = Subscriptions()
    context = Context(service, subscriptions, access=Access(rules, Caller(Mode.API_KEY)))

    async def first_answer() -> Any:
        stream = await schema.subscribe(document("on-stock-movement"), {"itemId": "x"}, context_value=context)
        assert isinstance(stream, AsyncIterator)
        # A refused subscription answers at once; one that started would wait for an event (and time out here).
        return process_result(await asyncio.wait_for(anext(stream), timeout=10))

    answer = asyncio.run(first_answer())

    assert answer == {
        "data": None,
        "errors": [{**_refusal("onStockMovement", "Subscription", line=5), "path": ["onStockMovement"]}],
    }
    assert subscriptions.listening("onStockMovement") == 0


# The rule itself, as AppSync reads directives.
RULES_SDL = """
type Query @aws_api_key @aws_cognito_user_pools {
  open: Int
  admins: Int @aws_cognito_user_pools(cognito_groups: ["admins", "owners"])
  keyOnly: Int @aws_api_key
}
type Plain { value: Int }
"""


def test_a_field_directive_replaces_its_type_and_no_directive_means_the_default_mode() -> None:
    rules = FieldRules(parse(RULES_SDL))
    key, reader = Caller(Mode.API_KEY), Caller(Mode.USER_POOL)
    owner = Caller(Mode.USER_POOL, frozenset({"owners", "x"}))

    assert rules.allows(key, "Query", "open") and rules.allows(reader, "Query", "open")
    assert not rules.allows(key, "Query", "admins") and not rules.allows(reader, "Query", "admins")
    assert rules.allows(owner, "Query", "admins")
    assert rules.allows(key, "Query", "keyOnly") and not rules.allows(owner, "Query", "keyOnly")
    assert rules.allows(Caller(DEFAULT_MODE), "Plain", "value") and not rules.allows(owner, "Plain", "value")
    assert not rules.allows(Caller(Mode.AWS_IAM), "Query", "open")
    assert rules.allows(reader, "Plain", "__typename")


def test_every_example_operation_is_open_to_the_roles_schema_graphql_names() -> None:
    rules, writes = FieldRules.of_contract(api_key_writes=True), FieldRules.of_contract(api_key_writes=False)
    reader, writer, key = Caller(Mode.USER_POOL), Caller(Mode.USER_POOL, frozenset({WRITERS})), Caller(Mode.API_KEY)
    for example in examples().values():
        root = example.operation.operation.value.capitalize()
        for field in example.root_fields:
            mutation = root == "Mutation"
            assert rules.allows(writer, root, field) and rules.allows(key, root, field)
            assert rules.allows(reader, root, field) is not mutation
            assert writes.allows(key, root, field) is not mutation


# The command line, as a user runs it.
def test_the_token_command_prints_a_token_signed_with_the_data_folders_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--groups", WRITERS, "other", "--username", "bob", "--data-dir", str(tmp_path)]) == 0
    token = capsys.readouterr().out.strip()

    user = user_pool.verify(local_secrets(tmp_path).user_pool_secret, token)
    assert (user.username, user.groups) == ("bob", frozenset({WRITERS, "other"}))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert set(claims) == {"sub", "username", "cognito:groups", "token_use", "iss", "iat", "exp"}


def test_an_older_data_folder_keeps_its_key_and_gains_a_token_key(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text(json.dumps({"apiKey": "da2-kept", "pageTokenSecret": "kept-secret"}))

    secrets = local_secrets(tmp_path)

    assert (secrets.api_key, secrets.page_token_secret) == ("da2-kept", "kept-secret")
    assert len(secrets.user_pool_secret) >= 32
    assert local_secrets(tmp_path) == secrets


def _http(url: str, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_python_m_devserver_auth_cognito_with_a_read_only_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "local-data"
    server = ServerProcess(data_dir, "--memory", "--auth", "cognito", "--api-key-read-only").start()
    try:
        create = {"query": document("create-item"), "variables": NEW_ITEM}
        writer = user_pool.mint(local_secrets(data_dir).user_pool_secret, username="w", groups=[WRITERS])
        reader = user_pool.mint(local_secrets(data_dir).user_pool_secret, username="r")

        by_key = _http(server.url, create, **{"x-api-key": server.api_key})
        by_reader = _http(server.url, create, authorization=reader)
        by_writer = _http(server.url, create, authorization=writer)
        listed = _http(server.url, {"query": LIST}, authorization=reader)
        expired = _http(server.url, {"query": LIST}, authorization=_token(now=time.time() - 7200))
    finally:
        server.stop()

    assert by_key[1]["errors"][0]["errorType"] == by_reader[1]["errors"][0]["errorType"] == "Unauthorized"
    assert by_writer[1]["data"]["createItem"]["sku"] == "AUTH-1"
    assert listed == (200, {"data": {"listItems": {"items": [{"sku": "AUTH-1", "quantity": 0}]}}})
    assert expired[0] == 401
    assert "Token:     python -m devserver token --groups inventory-writers" in "".join(server.output)
