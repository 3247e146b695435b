"""Unit fixtures: the real DynamoDB adapter on moto (in memory, a fresh table per test) and a service with a fixed
clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.service import InventoryService
from inventory.table import ensure_table

NOW = datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)  # written as 2026-01-02T03:04:05.678Z


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += timedelta(milliseconds=ms)


@pytest.fixture(scope="package")
def moto_dynamodb() -> Iterator[Any]:
    """One mocked account and client for the unit tests: creating a boto3 client costs ~0.1 s, a table ~0.01 s.
    Package scope: a mock left active for the session would keep its state across other packages' own mocks
    (tests/infra's Parameter Store values then already exist)."""
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamodb(moto_dynamodb: Any, settings: Settings) -> Iterator[Any]:
    """A DynamoDB client whose table was just created, empty; dropped after the test."""
    ensure_table(moto_dynamodb, settings.table_name)
    yield moto_dynamodb
    moto_dynamodb.delete_table(TableName=settings.table_name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(dynamodb: Any, settings: Settings, clock: Clock) -> InventoryService:
    return InventoryService(DynamoDBInventoryRepository(dynamodb, settings.table_name), settings, clock=clock)
