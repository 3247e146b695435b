"""Integration fixtures: Amazon DynamoDB Local for the session, a fresh table per test, and the Lambda runtime
pointed at it through its real configuration (environment variables), exactly as in a deployed function."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, cast

import boto3
import pytest

import resolvers.runtime
from devserver.dynamodb_local import running
from inventory.table import ensure_table
from tests.appsync import is_error, mutate
from tests.conftest import TEST_SECRET


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with running() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def admin_client(dynamodb_endpoint: str) -> Any:
    """A client of the tests' own, to create tables and inspect what the handlers wrote (never counted)."""
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")


def _clear_runtime_caches() -> None:
    resolvers.runtime.service.cache_clear()
    resolvers.runtime.dynamodb_client.cache_clear()


@pytest.fixture
def table_name(admin_client: Any, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty table for this test, and the Lambda configuration that points the handlers at it."""
    name = f"inventory-it-{uuid.uuid4().hex[:12]}"
    ensure_table(admin_client, name)
    monkeypatch.setenv("INVENTORY_TABLE_NAME", name)
    monkeypatch.setenv("INVENTORY_PAGE_TOKEN_SECRET", TEST_SECRET)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    for setting in (
        "INVENTORY_DEFAULT_PAGE_SIZE",
        "INVENTORY_MAX_PAGE_SIZE",
        "INVENTORY_DEFAULT_REORDER_POINT",
        "INVENTORY_IDEMPOTENCY_TTL_HOURS",
    ):
        monkeypatch.delenv(setting, raising=False)
    _clear_runtime_caches()
    try:
        yield name
    finally:
        # The table is left to DynamoDB Local, which runs in memory and forgets it when the session ends:
        # deleting it here would only add time to every test.
        _clear_runtime_caches()


@pytest.fixture(autouse=True)
def _table(table_name: str) -> str:
    """Every integration test runs against its own fresh table."""
    return table_name


class TableView:
    """Reads the raw table with the tests' own client: to check what was (not) written, independent of the API."""

    def __init__(self, client: Any, name: str) -> None:
        self.client, self.name = client, name

    def records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True}
        while True:
            response = self.client.scan(**request)
            records.extend(response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(records, key=lambda record: (record["pk"]["S"], record["sk"]["S"]))

    def record_keys(self) -> list[tuple[str, str]]:
        return [(record["pk"]["S"], record["sk"]["S"]) for record in self.records()]

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        record: dict[str, Any] | None = response.get("Item")
        return record


@pytest.fixture
def table(admin_client: Any, table_name: str) -> TableView:
    return TableView(admin_client, table_name)


@pytest.fixture
def dynamodb_calls(table_name: str) -> Iterator[Counter[str]]:
    """DynamoDB calls the handlers make, by operation name (GetItem, Query, TransactWriteItems...).

    Counted with botocore's event hooks on the runtime's own client: one count per API call, retries included
    only once (before-call fires per call, not per HTTP attempt). Clear it before the step to measure.
    """
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    events = resolvers.runtime.dynamodb_client().meta.events
    events.register("before-call.dynamodb", count, unique_id="integration-call-counter")
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", unique_id="integration-call-counter")


@pytest.fixture
def new_item() -> Callable[..., dict[str, Any]]:
    """Creates an item through the createItem handler: unique sku, defaults a test can override; returns the Item."""
    numbers = itertools.count(1)

    def create(**fields: Any) -> dict[str, Any]:
        number = next(numbers)
        item_input = {
            "sku": f"SKU-{number:04d}",
            "name": f"Item {number}",
            "category": "tools",
            "price": 9.99,
            **fields,
        }
        result = mutate("createItem", {"input": item_input})
        assert not is_error(result), result
        return cast(dict[str, Any], result)

    return create
