"""Fixtures for every test: fake AWS credentials (no AWS account is ever reached) and test settings."""

from __future__ import annotations

import os

import pytest

from inventory.config import Settings

# Set before any boto3 client exists, so nothing can pick up real credentials from the machine.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
)
os.environ.pop("AWS_PROFILE", None)

TEST_SECRET = "test-page-token-secret-0123456789"


@pytest.fixture
def settings() -> Settings:
    return Settings(table_name="inventory-test", page_token_secret=TEST_SECRET.encode())
