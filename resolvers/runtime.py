"""What every resolver function shares: the service (built once per container, rebuilt only when its configuration
changes), logging, business metrics, and the one place where failures become the error envelope that the AppSync
wiring turns into a GraphQL error."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import AppSyncResolver
from aws_lambda_powertools.event_handler.graphql_appsync.router import Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import AppSyncResolverEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.config import (
    CONFIGURATION_MAX_AGE_VARIABLE,
    DEFAULT_CONFIGURATION_MAX_AGE_SECONDS,
    PAGE_TOKEN_SECRET_ID_VARIABLE,
    PARAMETER_PATH_VARIABLE,
    Settings,
)
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import InsufficientStock, InventoryError, error_envelope, internal_error_envelope
from inventory.service import InventoryService
from resolvers.events import BadRequest, Field, field_of
from resolvers.metrics import INSUFFICIENT_STOCK, METRICS_NAMESPACE_VARIABLE, ORDERS_FULFILLED, STOCK_ADJUSTED

logger = Logger(service="inventory")

_SUCCESS_METRICS = {"adjustStock": STOCK_ADJUSTED, "fulfillOrder": ORDERS_FULFILLED}


@functools.cache
def dynamodb_client() -> Any:
    # Created on first use, not at import: importing this module must stay as cheap as importing boto3.
    return boto3.client("dynamodb")


@functools.cache
def _environment_settings(serves_pages: bool) -> Settings:
    return Settings.from_env(serves_pages=serves_pages)


def current_settings(*, serves_pages: bool = True) -> Settings:
    """The configuration: environment variables only (tests, the local server), or, in a deployed function, overlaid
    with the Parameter Store values and the page-token secret its environment names. Powertools keeps those in memory
    for the configured max age, so they are fetched once per container and then at most once per max age.
    ``serves_pages`` (see Settings.from_env): False for the expiry handler, whose function is given no secret."""
    path = os.environ.get(PARAMETER_PATH_VARIABLE)
    secret_id = os.environ.get(PAGE_TOKEN_SECRET_ID_VARIABLE)
    if not path and not secret_id:
        return _environment_settings(serves_pages)
    # Imported here: only deployed functions load it (about 10 ms), once, when they first build their service.
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    max_age = int(os.environ.get(CONFIGURATION_MAX_AGE_VARIABLE) or DEFAULT_CONFIGURATION_MAX_AGE_SECONDS)
    values = parameters.get_parameters(path, recursive=False, max_age=max_age) if path else {}
    secret = parameters.get_secret(secret_id, max_age=max_age) if secret_id else None
    return Settings.from_sources(os.environ, values, secret, serves_pages=serves_pages)


class _ContainerService:
    """The container's service; warm invocations reuse it (and its client), until the configuration changes."""

    def __init__(self) -> None:
        self._service: InventoryService | None = None

    def __call__(self, *, serves_pages: bool = True) -> InventoryService:
        """``serves_pages=False``: the expiry handler's service, built without the page-token secret when its
        function has none (a container only ever asks for one kind)."""
        settings = current_settings(serves_pages=serves_pages)
        current = self._service
        if current is None or current.settings != settings:
            current = InventoryService(DynamoDBInventoryRepository(dynamodb_client(), settings.table_name), settings)
            self._service = current
        return current

    def cache_clear(self) -> None:
        """Forget the service and the configuration read from the environment (a new container)."""
        self._service = None
        _environment_settings.cache_clear()


service = _ContainerService()


@functools.cache
def _metrics() -> Metrics:
    return Metrics(service="inventory")


def record_business_metric(field_name: str, result: Any) -> None:
    """Counts a successful adjustStock or fulfillOrder, and every InsufficientStock refusal."""
    if not os.environ.get(METRICS_NAMESPACE_VARIABLE):
        return
    failure = result.get("error") if isinstance(result, dict) else None
    if failure is None:
        name = _SUCCESS_METRICS.get(field_name)
    else:
        name = INSUFFICIENT_STOCK if failure["type"] == InsufficientStock.error_type else None
    if name is not None:
        metrics = _metrics()
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()


def failure_envelope(error: Exception) -> dict[str, Any]:
    """Expected failures keep their type, message and details; anything else is logged and told as InternalError."""
    if isinstance(error, BadRequest):  # not a client's mistake but a wiring one: worth a warning
        logger.warning("Malformed event refused", extra={"error_type": error.error_type, "error_info": error.info})
        return error_envelope(error)
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


class InventoryResolver(AppSyncResolver):
    """Powertools' AppSyncResolver that never raises, answers a batch entry by entry, and reports the business
    metrics of each direct (non-batch) invocation.

    Powertools reads ``info`` and ``arguments`` before its exception handlers apply, and routes a whole batch by its
    first entry; so the event's shape and field are checked here first, and a batch is split by field: each entry
    gets its own result or envelope, and an empty batch an empty list.
    """

    def resolve(
        self,
        event: dict[str, Any] | list[dict[str, Any]],
        context: LambdaContext,
        data_model: type[AppSyncResolverEvent] = AppSyncResolverEvent,
    ) -> Any:
        if isinstance(event, list):
            return self._resolve_batch(event, context, data_model)
        return outcome(lambda: self._resolve_one(event, context, data_model))

    def _resolve_one(self, event: Any, context: LambdaContext, data_model: type[AppSyncResolverEvent]) -> Any:
        field = field_of(event)
        if self._resolver_registry.find_resolver(*field) is None:
            raise BadRequest(f"this function does not resolve {field} (batched fields come as a list of events)")
        result = super().resolve(event, context, data_model)
        try:
            record_business_metric(field.name, result)
        except Exception:  # the answer stands: the request was served (a write may have been made)
            logger.exception("Business metric not recorded")
        return result

    def _resolve_batch(
        self, events: list[Any], context: LambdaContext, data_model: type[AppSyncResolverEvent]
    ) -> list[Any]:
        results: list[Any] = [None] * len(events)
        entries_of: dict[Field, list[int]] = {}
        for index, entry in enumerate(events):
            try:
                field = field_of(entry)
                if self._batch_resolver_registry.find_resolver(*field) is None:
                    raise BadRequest(f"this function does not resolve {field} in batches")
                entries_of.setdefault(field, []).append(index)
            except BadRequest as error:
                results[index] = failure_envelope(error)
        for indexes in entries_of.values():
            answers = self._resolve_group([events[index] for index in indexes], context, data_model)
            for index, answer in zip(indexes, answers, strict=True):
                results[index] = answer
        return results

    def _resolve_group(
        self, group: list[dict[str, Any]], context: LambdaContext, data_model: type[AppSyncResolverEvent]
    ) -> list[Any]:
        """The entries of one batched field: one result each, or the failure of the whole group for each."""
        answer = outcome(functools.partial(super().resolve, group, context, data_model))
        if isinstance(answer, list) and len(answer) == len(group):
            return answer
        return [answer] * len(group)  # Powertools' envelope of a failure of the whole batch (e.g. no service)


def build_app(*routers: Router) -> AppSyncResolver:
    app = InventoryResolver()
    for router in routers:
        app.include_router(router)
    app.exception_handler(Exception)(failure_envelope)
    return app
