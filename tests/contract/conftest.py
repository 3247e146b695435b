"""Contract fixtures: DynamoDB Local for the session; per test, the deployed API's model (the Lambda handlers) and the
local mirror (the Strawberry schema over the service), each on a fresh table of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import resolvers.runtime
from devserver.dynamodb_local import running
from devserver.stream import TableStream
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.service import InventoryService
from inventory.table import ensure_table
from tests.conftest import TEST_SECRET
from tests.contract.appsync_model import AppSyncModel
from tests.contract.mirror import Mirror

REGION = "us-east-1"
PAGE_SETTINGS = (
    "INVENTORY_DEFAULT_PAGE_SIZE",
    "INVENTORY_MAX_PAGE_SIZE",
    "INVENTORY_DEFAULT_REORDER_POINT",
    "INVENTORY_IDEMPOTENCY_TTL_HOURS",
)


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with running(quick_start=True) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def admin_client(dynamodb_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)


def _fresh_table(admin_client: Any) -> str:
    name = f"contract-{uuid.uuid4().hex[:12]}"
    ensure_table(admin_client, name)
    return name


def _clear_runtime_caches() -> None:
    resolvers.runtime.service.cache_clear()
    resolvers.runtime.dynamodb_client.cache_clear()


@pytest.fixture
def appsync(admin_client: Any, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppSyncModel]:
    """The deployed API as a model: the Lambda runtime configured, as in AWS, by its environment variables."""
    monkeypatch.setenv("INVENTORY_TABLE_NAME", _fresh_table(admin_client))
    monkeypatch.setenv("INVENTORY_PAGE_TOKEN_SECRET", TEST_SECRET)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    for setting in PAGE_SETTINGS:
        monkeypatch.delenv(setting, raising=False)
    _clear_runtime_caches()
    try:
        yield AppSyncModel()
    finally:
        _clear_runtime_caches()


@pytest.fixture
def table(admin_client: Any) -> str:
    """A fresh table's name."""
    return _fresh_table(admin_client)


@pytest.fixture
def service(table: str, dynamodb_endpoint: str) -> InventoryService:
    """The service the local server runs, configured like the Lambda functions, on that table."""
    settings = Settings(table_name=table, page_token_secret=TEST_SECRET.encode())
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)
    return InventoryService(DynamoDBInventoryRepository(client, table), settings)


@pytest.fixture
def stream(table: str, admin_client: Any, dynamodb_endpoint: str) -> TableStream:
    """That table's stream, as the local server reads it to feed its subscriptions (``create_app(stream=...)``)."""
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint, region_name=REGION)
    return TableStream(streams, admin_client, table)


@pytest.fixture
def mirror(service: InventoryService) -> Mirror:
    """The local server's schema over that service."""
    return Mirror(service)
