"""What every resolver function shares: the service (built once per container), logging, and the one place where
failures become the error envelope that the AppSync wiring turns into a GraphQL error."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import AppSyncResolver
from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import InventoryError, error_envelope, internal_error_envelope
from inventory.service import InventoryService

logger = Logger(service="inventory")


@functools.cache
def dynamodb_client() -> Any:
    # Created on first use, not at import: importing this module must stay as cheap as importing boto3.
    return boto3.client("dynamodb")


@functools.cache
def service() -> InventoryService:
    """The container's service; warm invocations reuse it (and its client and configuration)."""
    settings = Settings.from_env()
    return InventoryService(DynamoDBInventoryRepository(dynamodb_client(), settings.table_name), settings)


def failure_envelope(error: Exception) -> dict[str, Any]:
    """Expected failures keep their type, message and details; anything else is logged and told as InternalError."""
    if isinstance(error, InventoryError):
        logger.info("Request refused", extra={"error_type": error.error_type, "error_info": error.info})
        return error_envelope(error)
    logger.exception("Unexpected failure")
    return internal_error_envelope()


def outcome(resolve: Callable[[], Any]) -> Any:
    """The result of ``resolve()``, or its failure's envelope: one entry of a batch response."""
    try:
        return resolve()
    except Exception as error:  # noqa: BLE001 - every failure must become this entry's envelope
        return failure_envelope(error)


def build_app(*routers: Router) -> AppSyncResolver:
    app = AppSyncResolver()
    for router in routers:
        app.include_router(router)
    app.exception_handler(Exception)(failure_envelope)
    return app
