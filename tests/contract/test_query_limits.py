"""AppSync's queryDepthLimit and resolverCountLimit on the local server (devserver/query_limits.py): what a query is
measured at, and that a query over a limit is refused whole, typed, before any resolver or DynamoDB call runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from starlette.testclient import TestClient

import devserver.query_limits
from devserver.app import create_app
from devserver.query_limits import MAX_DOCUMENT_TOKENS, Measure, measure_operation, resolver_fields
from devserver.schema import schema
from inventory import limits, operations
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.events import CHANNELS
from inventory.fields import FIELDS
from inventory.service import InventoryService
from inventory.table import ensure_table
from tests.conftest import TEST_SECRET
from tests.contract.conftest import REGION

KEY = "da2-testtesttesttesttesttest12"
SETTINGS = Settings(table_name="unused", page_token_secret=TEST_SECRET.encode())
PAGE_WITH_MOVEMENTS = "listItems(limit: 100) { items { sku movements(limit: 1) { items { delta } } } }"


class CountedCalls:
    """Every DynamoDB call the service makes, counted through botocore's events."""

    def __init__(self, client: Any) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)


@pytest.fixture
def counted(admin_client: Any, dynamodb_endpoint: str) -> tuple[InventoryService, CountedCalls]:
    table = f"limits-{uuid.uuid4().hex[:12]}"
    ensure_table(admin_client, table)
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)
    settings = Settings(table_name=table, page_token_secret=TEST_SECRET.encode())
    return InventoryService(DynamoDBInventoryRepository(client, table), settings), CountedCalls(client)


@pytest.fixture
def client(counted: tuple[InventoryService, CountedCalls]) -> Iterator[TestClient]:
    with TestClient(create_app(counted[0], api_key=KEY), base_url="http://127.0.0.1:4000") as test_client:
        yield test_client


def _post(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers={"x-api-key": KEY})
    assert response.status_code == 200
    return response.json()


def measure(document: str, variables: dict[str, Any] | None = None) -> Measure:
    parsed = parse(document)
    operation = next(node for node in parsed.definitions if isinstance(node, OperationDefinitionNode))
    fragments = {node.name.value: node for node in parsed.definitions if isinstance(node, FragmentDefinitionNode)}
    return measure_operation(schema._schema, operation, fragments, variables, SETTINGS)


def _chain(length: int, body: str, end: str, on: str = "Query") -> str:
    """``length`` fragments, each spreading the next where ``body`` says NEXT."""
    fragments = [f"fragment F{i} on {on} {{ {body.replace('NEXT', f'...F{i + 1}')} }}" for i in range(length)]
    return "\n".join([*fragments, f"fragment F{length} on {on} {{ {end} }}"])


# What a query is measured at


@pytest.mark.parametrize(
    ("document", "variables", "resolvers"),
    [
        ("{ getItem(id: 1) { id } }", None, 1),
        ("{ getItem(id: 1) { id movements { items { id } } } }", None, 2),  # Item.movements has a resolver too
        ("{ a: getItem(id: 1) { id } b: getItem(id: 1) { id } }", None, 2),  # aliases count separately
        (f"{{ {PAGE_WITH_MOVEMENTS} }}", None, 101),
        ("{ listItems { items { movements { items { id } } } } }", None, 1 + SETTINGS.default_page_size),
        ("{ listItems(limit: null) { items { movements { items { id } } } } }", None, 1 + SETTINGS.default_page_size),
        ("query($n: Int) { listItems(limit: $n) { items { movements { items { id } } } } }", {"n": 7}, 8),
        ("query($n: Int = 30) { listItems(limit: $n) { items { movements { items { id } } } } }", None, 31),
        ("query($n: Int) { listItems(limit: $n) { items { movements { items { id } } } } }", {}, 21),
        ("{ listItems(limit: 1000) { items { movements { items { id } } } } }", None, 1),  # refused: no page
        ("{ listItems(limit: 2) { items { ...M ...M } } } fragment M on Item { movements { items { id } } }", None, 5),
        (
            "{ listItems(limit: 2) { ...P } } fragment P on ItemConnection { items { movements { items { id } } } }",
            None,
            3,
        ),
        ("mutation { a: deleteItem(id: 1) { id } b: deleteItem(id: 2) { id movements { items { id } } } }", None, 3),
        ("subscription { onItemChanged { id movements(limit: 100) { items { id } } } }", None, 0),  # no resolver runs
        ("{ __typename listItems { __typename } }", None, 1),
    ],
)
def test_a_query_costs_the_resolvers_it_can_invoke(
    document: str, variables: dict[str, Any] | None, resolvers: int
) -> None:
    assert measure(document, variables).resolvers == resolvers


def test_depth_counts_fields_not_fragments() -> None:
    assert measure("{ listItems { items { movements { items { id } } } } }").depth == 5
    assert measure("{ ... on Query { getItem(id: 1) { ... on Item { id } } } }").depth == 2
    assert measure("{ ...Q } fragment Q on Query { getItem(id: 1) { ...I } } fragment I on Item { id }").depth == 2


def test_the_fields_with_a_resolver_are_the_ones_the_stack_gives_one() -> None:
    # infra/api.py gives a resolver to each field of FIELDS and to each publish mutation (a NONE data source), which
    # AppSync counts alike (tests/infra/test_api.py checks the synthesized stack).
    published = {("Mutation", channel.publish_field) for channel in CHANNELS.values()}
    assert resolver_fields(schema._schema) == {(field.type_name, field.field_name) for field in FIELDS} | published


def test_the_stack_sets_the_limits_the_server_enforces() -> None:
    config = pytest.importorskip("infra.config")
    for name in config.ENVIRONMENTS:
        api = config.environment(name).api
        assert (api.query_depth_limit, api.resolver_count_limit) == (
            limits.QUERY_DEPTH_LIMIT,
            limits.RESOLVER_COUNT_LIMIT,
        ), name


def test_the_limits_leave_every_legitimate_query_possible() -> None:
    assert measure("{ listItems { items { movements { items { id } } } } }").depth <= limits.QUERY_DEPTH_LIMIT
    assert measure(f"{{ {PAGE_WITH_MOVEMENTS} }}").resolvers <= limits.RESOLVER_COUNT_LIMIT


# Refusals, through the server


def test_a_thousand_aliased_pages_are_refused_before_any_dynamodb_call(
    client: TestClient, counted: tuple[InventoryService, CountedCalls]
) -> None:
    aliases = " ".join(
        f"a{i}: listItems(limit: 100) {{ items {{ movements {{ items {{ id }} }} }} }}" for i in range(1000)
    )
    answer = _post(client, f"query {{ {aliases} }}")
    (error,) = answer["errors"]
    assert answer["data"] is None
    assert error["errorType"] == "ResolverExecutionLimitReached"
    assert error["errorInfo"] == {"limit": limits.RESOLVER_COUNT_LIMIT, "resolvers": 1000 * 101}
    assert "101000 resolvers" in error["message"]
    assert f"resolver count limit of {limits.RESOLVER_COUNT_LIMIT}" in error["message"]
    assert counted[1].calls == []


def test_a_megabyte_of_aliases_is_refused_at_parse_before_any_dynamodb_call(
    client: TestClient, counted: tuple[InventoryService, CountedCalls]
) -> None:
    alias = "a{}: listItems(limit: 100) {{ items {{ movements {{ items {{ id }} }} }} }}"
    document = "query { " + " ".join(alias.format(number) for number in range(14_000)) + " }"
    assert len(document) > 950_000  # what the 1 MB body limit lets through
    answer = _post(client, document)
    (error,) = answer["errors"]
    assert answer["data"] is None
    assert f"more than {MAX_DOCUMENT_TOKENS} tokens" in error["message"]
    assert counted[1].calls == []


def test_a_mutation_over_the_limit_writes_nothing(
    client: TestClient, counted: tuple[InventoryService, CountedCalls]
) -> None:
    service, calls = counted
    creates = " ".join(
        f'c{i}: createItem(input: {{sku: "L-{i}", name: "n", category: "c", price: 1}}) {{ id }}'
        for i in range(limits.RESOLVER_COUNT_LIMIT + 1)
    )
    assert operations.list_items(service, {"limit": 10})["items"] == []
    calls.calls.clear()
    answer = _post(client, f"mutation {{ {creates} }}")
    assert answer["errors"][0]["errorType"] == "ResolverExecutionLimitReached"
    assert calls.calls == []
    assert operations.list_items(service, {"limit": 10})["items"] == []


@pytest.mark.parametrize(
    ("document", "figure"),
    [
        # Each fragment nests fields (Strawberry's depth limiter recursed through these), ...
        ("{ listItems { items { ...F0 } } }\n" + _chain(300, "movements { items { NEXT } }", "id", "Item"), "depth"),
        # ... inline fragments, or nothing at all: within the depth limit, but nested past what validation walks.
        ("{ ...F0 }\n" + _chain(300, "__typename ... on Query { NEXT }", "__typename"), "nesting"),
        ("{ ...F0 }\n" + _chain(300, "NEXT", "__typename"), "nesting"),
    ],
)
def test_three_hundred_chained_fragments_get_a_typed_error_not_a_recursion_error(
    client: TestClient, document: str, figure: str
) -> None:
    answer = _post(client, document)
    (error,) = answer["errors"]
    assert answer["data"] is None
    assert error["errorType"] == "QueryDepthLimitReached"
    assert error["errorInfo"][figure] > error["errorInfo"]["limit"]
    assert "recursion" not in error["message"]


def test_a_query_deeper_than_the_limit_is_refused_whole(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting as AppSync does, the top-level field at depth 1: listItems/items/movements/items/id is 5 deep.
    deep = "query { getItem(id: 1) { id } listItems { items { movements { items { id } } } } }"
    monkeypatch.setattr(devserver.query_limits, "QUERY_DEPTH_LIMIT", 5)
    assert "errors" not in _post(client, deep)
    monkeypatch.setattr(devserver.query_limits, "QUERY_DEPTH_LIMIT", 4)
    answer = _post(client, deep)
    (error,) = answer["errors"]
    assert answer["data"] is None  # getItem, within the limit, did not run either
    assert error["errorType"] == "QueryDepthLimitReached"
    assert error["errorInfo"] == {"limit": 4, "depth": 5}
    assert "query depth limit of 4" in error["message"]


def test_the_largest_legitimate_query_runs(client: TestClient, counted: tuple[InventoryService, CountedCalls]) -> None:
    service, calls = counted
    for number in range(100):
        item = {"sku": f"P-{number:03}", "name": "n", "category": "c", "price": 1, "quantity": 5}
        operations.create_item(service, {"input": item})
    calls.calls.clear()
    answer = _post(client, f"query {{ {PAGE_WITH_MOVEMENTS} }}")
    assert "errors" not in answer
    items = answer["data"]["listItems"]["items"]
    assert [item["sku"] for item in items] == [f"P-{number:03}" for number in range(100)]
    assert all(item["movements"]["items"] == [{"delta": 5}] for item in items)
    assert calls.calls  # it ran against DynamoDB
