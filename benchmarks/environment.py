"""The environment the benchmarks run the Lambda code in: fake AWS credentials (no AWS account is ever reached) and
the service's settings."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
SERVICE_ENV = {
    "INVENTORY_TABLE_NAME": "inventory-benchmark",
    "INVENTORY_PAGE_TOKEN_SECRET": "benchmark-page-token-secret-0123456789",
}
